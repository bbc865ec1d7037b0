using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Server.Execution;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Server.Tests;

/// <summary>
/// A job of GPU slices once placed: its slices stored with the run and shown in the job view, charged as GPU-equivalents,
/// carried to the site's executor with its CPU cores and memory, and adopted by a new leader on the slices it holds.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SlicePlacementTests
{
    private static readonly GpuModel Sliced = new("G", 80, 700, 100, 1)
    {
        Sharing = new GpuSharing(7, 8, [new MigProfile("1g.10gb", 1, 1, 10, [0, 1, 2, 3, 4, 5, 6]), new MigProfile("3g.40gb", 3, 4, 40, [0, 4])], true, 60),
    };

    private static Fleet FleetRunBy(SiteExecutorSpec executor) =>
        new("sliced", [Sliced], [new Site("s", "o", "r", 10, 1.2) { Executor = executor }], [new GpuPoolSpec("s", "G", 8, 1, 2, 0) { CpusPerNode = 112, MemoryGbPerNode = 2048 }]);

    private static readonly object MigJob = new { tenant = "a", gpus = 2, timeLimitSeconds = 7200, runtimeSeconds = 3600, cpusPerGpu = 4, memoryGbPerGpu = 16, slice = new { migProfile = "1g.10gb" } };

    [Fact]
    public async Task A_placed_slice_job_shows_its_slices_and_is_charged_its_gpu_equivalents()
    {
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = FleetRunBy(SiteExecutorSpec.Simulated) });
        var start = server.Clock.GetUtcNow();
        var id = (await server.PostJobAsync(MigJob)).GetProperty("id").GetInt64();
        server.Scheduler.Tick();
        var running = await server.GetJobAsync(id);
        Assert.Equal("running", running.GetProperty("state").GetString());
        var slices = running.GetProperty("slices").EnumerateArray().ToList();
        Assert.Equal(2, slices.Count);
        var node = slices[0].GetProperty("node").GetString()!;
        Assert.Contains(node, running.GetProperty("placement").GetString()!);
        Assert.All(slices, s => Assert.Equal(("1g.10gb", 0.1429, 10.0), (s.GetProperty("migProfile").GetString(), s.GetProperty("fraction").GetDouble(), s.GetProperty("memoryGb").GetDouble())));
        // Two distinct instances: (GPU, start) differ.
        Assert.NotEqual((slices[0].GetProperty("gpu").GetInt32(), slices[0].GetProperty("migStart").GetInt32()), (slices[1].GetProperty("gpu").GetInt32(), slices[1].GetProperty("migStart").GetInt32()));

        // An hour's work, after the GPU's MIG layout is set up.
        server.Clock.Advance(TimeSpan.FromSeconds(3700));
        server.Scheduler.Tick();
        var done = await server.GetJobAsync(id);
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        var history = done.GetProperty("history").EnumerateArray().ToList();
        var held = (history.Single(e => e.GetProperty("state").GetString() == "succeeded").GetProperty("at").GetDateTimeOffset()
            - history.Single(e => e.GetProperty("state").GetString() == "running").GetProperty("at").GetDateTimeOffset()).TotalSeconds;
        Assert.InRange(held, 3600, 3700);
        // 2 × 1/7 of a GPU for the time held, not 2 GPUs.
        Assert.Equal(2 / 7.0 * held, done.GetProperty("gpuSeconds").GetDouble(), 3);
        Assert.Equal(2, done.GetProperty("slices").GetArrayLength());
        var from = Uri.EscapeDataString(start.ToString("o"));
        var to = Uri.EscapeDataString(server.Clock.GetUtcNow().AddSeconds(1).ToString("o"));
        var row = Assert.Single((await server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/usage?from={from}&to={to}")).GetProperty("rows").EnumerateArray());
        Assert.Equal(2 / 7.0 * held / 3600, row.GetProperty("gpuHours").GetDouble(), 6);
    }

    [Fact]
    public async Task A_job_of_whole_gpus_shows_no_slices()
    {
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = FleetRunBy(SiteExecutorSpec.Simulated) });
        var id = (await server.PostJobAsync(new { tenant = "a", gpus = 2, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
        server.Scheduler.Tick();
        var job = await server.GetJobAsync(id);
        Assert.Equal("running", job.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("slices").ValueKind);
    }

    [Fact]
    public async Task The_sites_executor_gets_the_slices_and_a_new_leader_adopts_the_run_on_them()
    {
        var fleet = FleetRunBy(new SiteExecutorSpec("slurm", new Dictionary<string, string> { ["pollSeconds"] = "1", ["inventorySeconds"] = "1" }));
        var cluster = new InMemoryCluster(fleet, 0);
        var database = RunningServer.NewDatabase(Backend.Sqlite);
        Task<RunningServer> StartAsync() => RunningServer.StartAsync(database: database, adjust: s => s with { Fleet = fleet },
            services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        long id;
        string before;
        HashSet<(string, int)> held;
        await using (var first = await StartAsync())
        {
            id = (await first.PostJobAsync(MigJob)).GetProperty("id").GetInt64();
            await first.UntilAsync(() => Task.FromResult(cluster.Runs(id)), "the slice job launched");
            var launch = cluster.Launches.Single(l => l.JobId == id);
            Assert.Equal((4.0, 16.0), (launch.CpusPerGpu, launch.MemoryGbPerGpu));
            var slices = launch.Slices!;
            Assert.Equal(2, slices.Count);
            Assert.All(slices, s => Assert.Equal(("1g.10gb", launch.Nodes.Single().Node), (s.MigProfile, s.Node)));
            Assert.Equal(slices.Select(s => s.Gpu).Distinct().Order(), launch.Nodes.Single().Gpus);
            held = [.. slices.Select(s => (s.Node, s.Gpu))];
            before = (await first.GetJobAsync(id)).GetProperty("slices").GetRawText();
        }
        await using var second = await StartAsync();
        await second.UntilAsync(() => Task.FromResult(second.Scheduler.IsLeader), "the second server leading");
        second.Scheduler.Tick();
        // Taken up where it runs, on the same instances: not cancelled, not launched again, not requeued.
        Assert.Equal([$"launch {id}"], cluster.Order.Where(o => o.EndsWith($" {id}", StringComparison.Ordinal)));
        var job = await second.GetJobAsync(id);
        Assert.Equal("running", job.GetProperty("state").GetString());
        Assert.DoesNotContain(job.GetProperty("history").EnumerateArray(), e => e.GetProperty("detail").GetString()!.StartsWith("requeued", StringComparison.Ordinal));
        Assert.Equal(before, job.GetProperty("slices").GetRawText());
        // While it runs, no other slice goes onto its GPUs: the new leader knows only its instances there.
        var other = (await second.PostJobAsync(MigJob)).GetProperty("id").GetInt64();
        await second.UntilAsync(() => Task.FromResult(cluster.Runs(other)), "another slice job launched");
        Assert.DoesNotContain(cluster.Launches.Single(l => l.JobId == other).Slices!, s => held.Contains((s.Node, s.Gpu)));
        Assert.Empty(second.Errors.Entries);
    }
}
