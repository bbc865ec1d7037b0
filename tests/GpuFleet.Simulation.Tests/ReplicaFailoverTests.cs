using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace GpuFleet.Simulation.Tests;

/// <summary>
/// Two server replicas on one PostgreSQL database: both take submissions, one schedules. The leader
/// is killed (SIGKILL) under load; the other must take over within 10 s, and no acknowledged job may
/// be lost or duplicated, and no GPU held by two jobs at once — checked from every job's recorded
/// history of placements, not from the scheduler's own view.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Category", "Postgres")]
public sealed class ReplicaFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_standby_takes_over_within_10_seconds_and_no_job_is_lost_or_placed_twice()
    {
        var db = GpuFleet.Tests.Shared.TestPostgres.NewDatabase();
        const string fleet = "fleets/philly-contended.yaml";   // 656 GPUs: the load below keeps it full
        using var first = await ServerProcess.StartAsync(db, fleet);
        await WaitAsync(first.IsLeaderAsync, 10, "the first replica never led");
        using var second = await ServerProcess.StartAsync(db, fleet);
        Assert.False(await second.IsLeaderAsync());

        var clients = new SubmittingClients();
        var alive = new[] { first.Client, second.Client };
        using var stop = new CancellationTokenSource();
        var load = clients.RunAsync("failover", 8, () => alive, 300, stop.Token);
        await Task.Delay(1500);
        var beforeKill = clients.Acknowledged.Count;
        // The standby answers the fleet views from the leader's published copy.
        using (var sites = await second.Client.GetAsync("/api/v1/sites"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, sites.StatusCode);
            Assert.True(sites.Headers.Contains("X-GpuFleet-View-At"));
            Assert.Equal("philly", (await sites.Content.ReadFromJsonAsync<JsonElement>())[0].GetProperty("site").GetString());
        }
        var health = (await second.HealthAsync())!.Value;
        Assert.Equal((await first.HealthAsync())!.Value.GetProperty("replica").GetString(), health.GetProperty("leaseHolder").GetString());

        first.Kill();
        var watch = Stopwatch.StartNew();
        alive = [second.Client];
        await WaitAsync(second.IsLeaderAsync, 10, "the standby did not take over within 10 s");
        var takeover = watch.Elapsed.TotalSeconds;
        output.WriteLine($"takeover after {takeover:F2} s; {beforeKill} jobs acknowledged before the kill");
        Assert.True(takeover < 10, $"takeover took {takeover:F1} s");

        await Task.Delay(1500);   // the new leader works under load too
        stop.Cancel();
        await load;
        Assert.True(clients.Acknowledged.Count > beforeKill, "no job was acknowledged after the failover");

        await clients.AssertNothingLostOrDuplicatedAsync(second);
        Assert.True(await second.DrainAsync(60), "jobs still pending or running 60 s after the load stopped");
        var jobs = await second.AllJobsAsync();
        Assert.All(jobs, j => Assert.Contains(j.GetProperty("state").GetString(), new[] { "succeeded", "cancelled" }));

        // Every run each job had, from its history: a run starts at a "Running" event and ends at the job's next event.
        var runs = new List<(long Start, long End, int Gpus, long Job)>();
        foreach (var j in jobs)
        {
            var id = j.GetProperty("id").GetInt64();
            var history = (await second.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}")).GetProperty("history").EnumerateArray().ToList();
            for (var i = 0; i < history.Count; i++)
            {
                if (history[i].GetProperty("state").GetString() != "running") continue;
                Assert.True(i + 1 < history.Count, $"job {id} ended running");
                runs.Add((At(history[i]), At(history[i + 1]), j.GetProperty("gpus").GetInt32(), id));
            }
        }
        // At no moment do running jobs hold more GPUs than the fleet has: a job placed twice, or a GPU
        // given to two jobs by two leaders, would exceed it while the fleet is full.
        var held = 0;
        var peak = 0;
        foreach (var (_, delta) in runs.SelectMany(r => new[] { (r.Start, r.Gpus), (r.End, -r.Gpus) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2))
        {
            held += delta;
            peak = Math.Max(peak, held);
        }
        output.WriteLine($"{jobs.Count} jobs, {runs.Count} runs, peak {peak} of 656 GPUs held");
        Assert.InRange(peak, 600, 656);   // at least 600: the fleet was full at some point, so the check had teeth
    }

    private static long At(JsonElement e) => e.GetProperty("at").GetDateTimeOffset().ToUnixTimeMilliseconds();

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
