using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

/// <summary>Two servers on one database in one process: one schedules, the other takes over when it stops.</summary>
[Trait("Category", "Server")]
public abstract class ReplicaTests(Backend backend)
{
    [Fact]
    public async Task A_standby_serves_the_API_and_takes_over_when_the_leader_stops()
    {
        var db = RunningServer.NewDatabase(backend);
        var leader = await RunningServer.StartAsync(backend, db);
        await using var standby = await RunningServer.StartAsync(backend, db, standby: true);
        long running, pending;
        await using (leader)
        {
            Assert.True(leader.Scheduler.IsLeader);
            Assert.False(standby.Scheduler.IsLeader);
            // Submitted through the standby, placed by the leader.
            running = (await standby.PostJobAsync(new { tenant = "a", gpus = 16, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
            leader.Scheduler.Tick();
            standby.Scheduler.Tick();
            Assert.False(standby.Scheduler.IsLeader);
            Assert.Equal("running", (await standby.GetJobAsync(running)).GetProperty("state").GetString());
            pending = (await standby.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
            leader.Clock.Advance(TimeSpan.FromSeconds(3));   // past the 2 s between published views
            leader.Scheduler.Tick();
            // The standby answers fleet views from the leader's published copy, and asks the leader why a job waits.
            var sites = await standby.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites");
            Assert.Equal(16, sites[0].GetProperty("busyGpus").GetInt32());
            var waiting = await standby.GetJobAsync(pending);
            Assert.Equal("pending", waiting.GetProperty("state").GetString());
            Assert.False(string.IsNullOrEmpty(waiting.GetProperty("pendingReason").GetString()));
            Assert.Equal((await leader.GetJobAsync(pending)).GetProperty("pendingMessage").GetString(), waiting.GetProperty("pendingMessage").GetString());
        }

        // The leader is gone: the standby's next cycle takes the lease, requeues the run it lost, and schedules.
        standby.Scheduler.Tick();
        Assert.True(standby.Scheduler.IsLeader);
        var a = await standby.GetJobAsync(running);
        var b = await standby.GetJobAsync(pending);
        Assert.Contains(a.GetProperty("history").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("changed hands"));
        // Exactly one of the two holds the fleet's 16 GPUs; nothing is lost or duplicated.
        Assert.Equal(["pending", "running"], new[] { a.GetProperty("state").GetString(), b.GetProperty("state").GetString() }.Order());
        Assert.Equal(2, (await standby.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
    }
}

/// <summary>On SQLite (a lease holder is known alive by its process).</summary>
public sealed class ReplicaTestsOnSqlite() : ReplicaTests(Backend.Sqlite);

/// <summary>On PostgreSQL (a lease holder is known alive by its database session).</summary>
[Trait("Category", "Postgres")]
public sealed class ReplicaTestsOnPostgres() : ReplicaTests(Backend.Postgres);
