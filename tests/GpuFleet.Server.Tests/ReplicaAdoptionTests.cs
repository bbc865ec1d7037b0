using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Server.Execution;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Server.Tests;

/// <summary>
/// Service replicas running on a real cluster when the scheduler changes hands: the new leader adopts them where
/// they run, as it adopts other jobs, so that a fail-over costs a service none of its capacity.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReplicaAdoptionTests
{
    [Fact]
    public async Task A_new_leader_adopts_running_replicas_and_scales_them_down_as_its_own()
    {
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["pollSeconds"] = "1", ["inventorySeconds"] = "1" }, new GpuPoolSpec("s", "G", 8, 1, 2, 0));
        var cluster = new InMemoryCluster(fleet, 0);
        var database = RunningServer.NewDatabase(Backend.Sqlite);
        Task<RunningServer> StartAsync() => RunningServer.StartAsync(database: database, adjust: s => s with { Fleet = fleet },
            services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        long[] ids;
        await using (var first = await StartAsync())
        {
            using (var created = await first.Client.PostAsJsonAsync("/api/v1/services", new { name = "chat", tenant = "a", gpusPerReplica = 2, maxReplicas = 6, requestsPerSecondPerReplica = 100 }))
                Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            using (var scaled = await first.Client.PostAsJsonAsync("/api/v1/services/chat/scale", new { replicas = 3 })) scaled.EnsureSuccessStatusCode();
            first.Scheduler.Tick();
            ids = [.. (await ShowAsync(first)).GetProperty("running").EnumerateArray().Select(r => r.GetProperty("id").GetInt64())];
            Assert.Equal(3, ids.Length);
            await first.UntilAsync(() => Task.FromResult(ids.All(cluster.Runs)), "the three replicas launched");
        }

        await using var second = await StartAsync();
        await second.UntilAsync(() => Task.FromResult(second.Scheduler.IsLeader), "the second server leading");
        second.Scheduler.Tick();
        // The same replicas run on where they ran: none cancelled, launched again or requeued, none submitted anew.
        var chat = await ShowAsync(second);
        Assert.Equal((3, 0), (chat.GetProperty("runningReplicas").GetInt32(), chat.GetProperty("pendingReplicas").GetInt32()));
        Assert.Equal(ids, chat.GetProperty("running").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        foreach (var id in ids)
        {
            Assert.Equal([$"launch {id}"], cluster.Order.Where(o => o.EndsWith($" {id}", StringComparison.Ordinal)));
            Assert.DoesNotContain((await second.GetJobAsync(id)).GetProperty("history").EnumerateArray(),
                e => e.GetProperty("detail").GetString()!.StartsWith("requeued", StringComparison.Ordinal));
        }
        // They are the new leader's own: scaled down, the newest go at once and their runs are cancelled.
        using (var scaled = await second.Client.PostAsJsonAsync("/api/v1/services/chat/scale", new { replicas = 1 })) scaled.EnsureSuccessStatusCode();
        second.Scheduler.Tick();
        await second.UntilAsync(() => Task.FromResult(cluster.Order.Count(o => o.StartsWith("cancel ", StringComparison.Ordinal)) == 2), "two replicas' runs cancelled");
        Assert.Equal(1, (await ShowAsync(second)).GetProperty("runningReplicas").GetInt32());
        // Their GPUs are free: a job of the 12 left places at once.
        var job = (await second.PostJobAsync(new { tenant = "b", gpus = 12, timeLimitSeconds = 600, topology = "anywhere" })).GetProperty("id").GetInt64();
        second.Scheduler.Tick();
        Assert.Equal("running", (await second.GetJobAsync(job)).GetProperty("state").GetString());
        Assert.Empty(second.Errors.Entries);
    }

    private static async Task<JsonElement> ShowAsync(RunningServer server) =>
        await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/services/chat");
}
