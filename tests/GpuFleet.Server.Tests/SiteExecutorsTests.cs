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

    [Fact]
    public async Task The_servers_installation_names_the_runs_of_its_executors_and_overrides_the_fleet_files()
    {
        var logs = TestFiles.Temp("installation-logs");
        var fleet = new Core.Fleets.Fleet("f", RunningServer.SmallFleet.Models, [RunningServer.SmallFleet.Sites[0] with
        {
            Executor = new Core.Fleets.SiteExecutorSpec("local", new Dictionary<string, string> { ["logDirectory"] = logs, ["virtualGpus"] = "1" }),
        }], [new Core.Fleets.GpuPoolSpec("s", "G", 1, 1, 1, 0)]) { Installation = "lab" };
        await using (var local = (Executors.Local.LocalExecutor)SiteExecutors.Create(fleet, 0))
            Assert.Equal("lab-7.log", Path.GetFileName(local.LogPath(7)));
        await using (var local = (Executors.Local.LocalExecutor)SiteExecutors.Create(fleet, 0, "prod"))
            Assert.Equal("prod-7.log", Path.GetFileName(local.LogPath(7)));
        var settings = new Hosting.ServerSettings { Fleet = fleet, Database = "x.db" };
        Assert.Equal("lab", settings.Installation);
        Assert.Equal("prod", (settings with { Installation = "prod" }).Installation);
        Assert.Contains("installation: must start with a lowercase letter", Assert.Throws<ArgumentException>(() => settings with { Installation = "Prod" }).Message);
    }
}
