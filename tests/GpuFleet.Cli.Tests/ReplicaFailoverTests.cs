using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// Two server replicas on one database: both take submissions, one schedules. The leader is killed
/// (SIGKILL: its process and session end, and the standby takes over at once) or frozen (SIGSTOP, as a
/// long GC pause or a suspended VM would: its session stays open, so the standby takes over when its
/// lease expires); a frozen leader is then resumed and must find itself fenced and step down. No
/// acknowledged job may be lost or duplicated, and no GPU held by two jobs at once — replayed GPU by
/// GPU from every job's recorded runs, not from any scheduler's own view.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReplicaFailoverTests(ITestOutputHelper output)
{

    [Theory]
    [InlineData("postgres", "kill")]
    [InlineData("postgres", "freeze")]
    [InlineData("sqlite", "kill")]
    [InlineData("sqlite", "freeze")]
    public async Task A_standby_takes_over_and_no_job_is_lost_or_placed_twice(string backend, string failure)
    {
        var db = backend == "postgres" ? TestPostgres.NewDatabase() : TestFiles.Temp("failover.db");
        // Short on PostgreSQL, to keep the test short. The default on SQLite: there the standby's writes under
        // load can keep the leader waiting for the file's write lock for seconds, and a short lease would
        // then change hands before the failure this test is about.
        var leaseSeconds = backend == "postgres" ? 3.0 : 10.0;
        const string fleet = "fleets/philly-contended.yaml";   // 656 GPUs: the load below keeps it full
        using var first = await ServerProcess.StartAsync(db, fleet, leaseSeconds: leaseSeconds);
        await WaitAsync(first.IsLeaderAsync, 10, "the first replica never led");
        using var second = await ServerProcess.StartAsync(db, fleet, leaseSeconds: leaseSeconds);
        Assert.False(await second.IsLeaderAsync());

        // On SQLite a process frozen inside a write transaction holds the file's write lock (no database
        // can end another process's transaction there): the load goes to the standby, and the leader only
        // schedules, so that it is frozen between its writes. PostgreSQL ends such a transaction itself.
        var clients = new SubmittingClients();
        var targets = backend == "sqlite" ? new[] { second.Client } : [first.Client, second.Client];
        using var stop = new CancellationTokenSource();
        var load = clients.RunAsync("failover", 8, () => targets, 300, stop.Token);
        // The failure comes once the fleet is full (nearly every GPU busy), so that a GPU given twice would show.
        await WaitAsync(async () => await BusyGpusAsync(first) >= 600, 60, "the load never filled the fleet");
        var beforeFailure = clients.Acknowledged.Count;
        // The standby answers the fleet views from the leader's published copy.
        using (var sites = await second.Client.GetAsync("/api/v1/sites"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, sites.StatusCode);
            Assert.True(sites.Headers.Contains("X-GpuFleet-View-At"));
            Assert.Equal("philly", (await sites.Content.ReadFromJsonAsync<JsonElement>())[0].GetProperty("site").GetString());
        }
        var health = (await second.HealthAsync())!.Value;
        Assert.Equal((await first.HealthAsync())!.Value.GetProperty("replica").GetString(), health.GetProperty("leaseHolder").GetString());

        if (failure == "freeze" && backend == "sqlite")
        {
            // Right after a cycle ends: the next starts a second later.
            var cycles = (await first.HealthAsync())!.Value.GetProperty("cycles").GetInt64();
            await WaitAsync(async () => (await first.HealthAsync())!.Value.GetProperty("cycles").GetInt64() > cycles, 10, "the leader stopped cycling");
        }
        var watch = Stopwatch.StartNew();
        // While a frozen leader's lease runs out, submissions pause: nothing is scheduled meanwhile, and a
        // lease's worth of them would only lengthen the drain below.
        if (failure == "kill") first.Kill();
        else first.Freeze();
        targets = failure == "kill" ? [second.Client] : [];
        await WaitAsync(second.IsLeaderAsync, 30, "the standby did not take over within 30 s");
        var takeover = watch.Elapsed.TotalSeconds;
        targets = [second.Client];
        output.WriteLine($"{backend}, leader {failure}: takeover after {takeover:F2} s (lease {leaseSeconds} s); {beforeFailure} jobs acknowledged before");
        if (failure == "freeze")
        {
            // A frozen leader is alive: it keeps the lease until it expires (renewed at most a cycle before the freeze).
            Assert.True(takeover >= leaseSeconds - 1.5, $"a frozen leader was replaced after {takeover:F1} s, before its {leaseSeconds} s lease ran out");
            await Task.Delay(1500);   // the new leader works under load while the old one is still frozen
            targets = [];
            first.Resume();
            // The old leader carries on where it froze: its next write or renewal finds another epoch, and it steps down.
            await WaitAsync(async () => await first.HealthAsync() is { } h && !h.GetProperty("leader").GetBoolean(), 30, "the resumed leader did not step down");
            Assert.True(await second.IsLeaderAsync(), "the new leader lost the lease to the resumed one");
            targets = [first.Client, second.Client];
        }

        await Task.Delay(1500);   // the new leader works under load, beside the resumed replica
        stop.Cancel();
        await load;
        Assert.True(clients.Acknowledged.Count > beforeFailure, "no job was acknowledged after the failover");

        await clients.RetryUnansweredAsync(second.Client);
        await clients.AssertStoredExactlyAsAcknowledgedAsync(second);
        // A deadline for a stuck run, not a speed check: on a loaded 2-core machine the queue may take minutes to drain.
        Assert.True(await second.DrainAsync(300), "jobs still pending or running 300 s after the load stopped");
        var jobs = await second.AllJobsAsync();
        Assert.All(jobs, j => Assert.Contains(j.GetProperty("state").GetString(), new[] { "succeeded", "cancelled" }));
        var runs = await RecordedRuns.ReadAsync(second.Client, jobs, fleet);
        var peak = RecordedRuns.AssertNoGpuHeldTwice(runs);
        output.WriteLine($"{jobs.Count} jobs, {runs.Count} runs, peak {peak} of 656 GPUs held");
        Assert.InRange(peak, 600, 656);   // at least 600: the fleet was full at some point, so the check had teeth
    }

    private static async Task<int> BusyGpusAsync(ServerProcess leader)
    {
        using var r = await leader.Client.GetAsync("/api/v1/sites");
        return r.IsSuccessStatusCode ? (await r.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Sum(s => s.GetProperty("busyGpus").GetInt32()) : 0;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, double seconds, string failure)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail(failure);
    }
}
