using GpuFleet.Executors;
using GpuFleet.Server.Execution;
using GpuFleet.Tests.Shared;

namespace GpuFleet.Server.Tests;

/// <summary>A fleet file's Slurm executor settings choose the transport: slurmrestd with <c>restUrl</c>, the tools without.</summary>
[Trait("Category", "Unit")]
public sealed class SiteExecutorsTests
{
    [Fact]
    public async Task A_slurm_site_with_a_rest_url_is_reached_through_slurmrestd()
    {
        var url = $"http://127.0.0.1:{TestFiles.FreePort()}";
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["restUrl"] = url, ["user"] = "root", ["token"] = "t" });
        await using var executor = SiteExecutors.Create(fleet, 0);
        // Nothing listens there: the executor says whom it asked.
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => executor.InventoryAsync(default));
        Assert.Contains($"slurmrestd at {url}", e.Message);
    }

    [Fact]
    public async Task A_slurm_site_without_a_rest_url_runs_the_tools()
    {
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["toolDirectory"] = "/nonexistent" });
        await using var executor = SiteExecutors.Create(fleet, 0);
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => executor.InventoryAsync(default));
        Assert.Contains("cannot run /nonexistent/sinfo", e.Message);
    }
}
