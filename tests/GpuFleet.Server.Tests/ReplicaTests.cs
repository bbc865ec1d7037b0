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

    [Fact]
    public async Task A_replica_that_does_not_lead_serves_a_log_the_leader_keeps_after_checking_the_caller_and_says_503_when_it_cannot_reach_it()
    {
        var db = RunningServer.NewDatabase(backend);
        string Logs() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "gpufleet-server-tests", Guid.NewGuid().ToString("N"))).FullName;
        string leaderLogs = Logs(), followerLogs = Logs();
        var leader = await RunningServer.StartAsync(backend, db, adjust: s => s with { LogDirectory = leaderLogs });
        await using var follower = await RunningServer.StartAsync(backend, db, standby: true, adjust: s => s with { LogDirectory = followerLogs });
        using var member = follower.ClientWith(await follower.MintAsync("member", "a"));
        using var other = follower.ClientWith(await follower.MintAsync("member", "b"));
        var id = (await follower.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
        var silent = (await follower.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
        File.WriteAllText(Path.Combine(leaderLogs, $"{id}.log"), "step 1 loss 2.31\nstep 2 loss 1.97\n");
        await using (leader)
        {
            // The leader publishes where it can be reached with its view (once it listens, every 2 s).
            leader.Clock.Advance(TimeSpan.FromSeconds(3));
            leader.Scheduler.Tick();
            Assert.False(follower.Scheduler.IsLeader);

            using (var r = await member.GetAsync($"/api/v1/jobs/{id}/log"))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
                Assert.Equal("text/plain", r.Content.Headers.ContentType?.MediaType);
                Assert.Equal("step 1 loss 2.31\nstep 2 loss 1.97\n", await r.Content.ReadAsStringAsync());
            }
            Assert.Equal("step 2 loss 1.97\n", await member.GetStringAsync($"/api/v1/jobs/{id}/log?offset=17"));
            // What the leader says of a job without a log, it says through the follower.
            using (var none = await member.GetAsync($"/api/v1/jobs/{silent}/log"))
            {
                Assert.Equal(System.Net.HttpStatusCode.NotFound, none.StatusCode);
                Assert.Equal("log not found", JsonDocument.Parse(await none.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
            }
            // Another tenant's token: the follower answers as for any job it may not see.
            using var refused = await other.GetAsync($"/api/v1/jobs/{id}/log");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
            Assert.Equal("job not found", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
        }

        // The leader is gone and no replica leads: the follower says it cannot reach the log's replica, and still
        // checks the caller first (another tenant gets 404, not 503: nobody was asked).
        using (var r = await member.GetAsync($"/api/v1/jobs/{id}/log"))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("log's replica not reachable", problem.GetProperty("title").GetString());
            Assert.Contains("cannot be reached", problem.GetProperty("detail").GetString());
        }
        using (var r = await other.GetAsync($"/api/v1/jobs/{id}/log"))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, r.StatusCode);
        // A log in the follower's own directory (replicas on one machine share it) needs no other replica.
        File.WriteAllText(Path.Combine(followerLogs, $"{id}.log"), "here\n");
        Assert.Equal("here\n", await member.GetStringAsync($"/api/v1/jobs/{id}/log"));
    }
}

/// <summary>On SQLite (a lease holder is known alive by its process).</summary>
public sealed class ReplicaTestsOnSqlite() : ReplicaTests(Backend.Sqlite);

/// <summary>On PostgreSQL (a lease holder is known alive by its database session).</summary>
[Trait("Category", "Postgres")]
public sealed class ReplicaTestsOnPostgres() : ReplicaTests(Backend.Postgres);
