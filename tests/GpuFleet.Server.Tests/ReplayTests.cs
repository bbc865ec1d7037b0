using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Server.Tests;

[Trait("Category", "Server")]
public sealed class ReplayTests
{
    [Fact]
    public async Task The_demo_load_replays_a_trace_on_accelerated_time_through_the_store()
    {
        // Trace jobs at 0, 100 and 200 s, replayed 100x faster: at 0, 1 and 2 s of real time.
        TraceJob Job(long id, long at) => new(new JobSpec(id, $"vc-{id}", 3, [], TopologyNeed.Site, 600, 0, at), 300);
        await using var server = await RunningServer.StartAsync(replay: [Job(1, 0), Job(2, 100), Job(3, 200)], timeScale: 100);
        await server.Replayer.TickAsync();
        server.Clock.Advance(TimeSpan.FromSeconds(1.5));
        await server.Replayer.TickAsync();
        Assert.Equal(2, server.Replayer.Submitted);
        server.Scheduler.Tick();
        var items = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        // Tenants are the tree's projects; GPUs scaled (x2 here); both placed.
        Assert.All(items, j => Assert.Contains(j.GetProperty("tenant").GetString(), new[] { "a", "b" }));
        Assert.All(items, j => Assert.Equal(6, j.GetProperty("gpus").GetInt32()));
        Assert.All(items, j => Assert.Equal("running", (server.GetJobAsync(j.GetProperty("id").GetInt64()).Result).GetProperty("state").GetString()));
        // 300 s of run time at 100x: done 3 s later.
        server.Clock.Advance(TimeSpan.FromSeconds(3.1));
        server.Scheduler.Tick();
        Assert.All(items, j => Assert.Equal("succeeded", (server.GetJobAsync(j.GetProperty("id").GetInt64()).Result).GetProperty("state").GetString()));
    }
}
