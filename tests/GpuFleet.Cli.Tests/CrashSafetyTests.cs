using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// Kills the real server (SIGKILL) at seeded random moments while clients submit and cancel, restarts
/// it on the same database, retries every submission that got no answer, and checks that the stored
/// jobs are exactly the acknowledged ones, that acknowledged cancellations stuck, and — replayed from
/// every job's recorded runs — that no GPU was ever held twice, across every crash. On SQLite and on a
/// real PostgreSQL server. <c>GPUFLEET_TEST_SEED</c> repeats a run (its seed is printed).
/// </summary>
[Trait("Category", "Integration")]
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Acknowledged_jobs_survive_SIGKILL_and_restart(string backend)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("GPUFLEET_TEST_SEED"), out var given) ? given : Random.Shared.Next();
        output.WriteLine($"seed {seed} (GPUFLEET_TEST_SEED={seed} repeats this run)");
        var rng = new Random(seed);
        var db = backend == "postgres" ? TestPostgres.NewDatabase() : TestFiles.Temp("crash.db");
        var clients = new SubmittingClients();
        for (var round = 0; round < 3; round++)
        {
            using var server = await ServerProcess.StartAsync(db);
            using var stop = new CancellationTokenSource();
            var load = clients.RunAsync($"r{round}", 8, () => [server.Client], 600, stop.Token);
            // Killed at a random moment once this round has had submissions answered, so that every round has something to lose.
            var before = clients.Acknowledged.Count;
            for (var i = 0; i < 200 && clients.Acknowledged.Count == before; i++) await Task.Delay(25);
            await Task.Delay(rng.Next(1_500));
            server.Kill();
            stop.Cancel();
            await load;
            output.WriteLine($"round {round}: {clients.Acknowledged.Count} acknowledged, {clients.Unanswered} unanswered, {clients.CancelsAcknowledged} cancels acknowledged so far");
        }

        using var last = await ServerProcess.StartAsync(db);
        await clients.RetryUnansweredAsync(last.Client);
        await clients.AssertStoredExactlyAsAcknowledgedAsync(last);
        // Let every job finish (run times are at most 600 s at 100x); every one ends one way or another.
        Assert.True(await last.DrainAsync(60), $"jobs still pending or running after 60 s (seed {seed})");
        var jobs = await last.AllJobsAsync();
        Assert.All(jobs, j => Assert.Contains(j.GetProperty("state").GetString(), new[] { "succeeded", "cancelled" }));
        var runs = await RecordedRuns.ReadAsync(last.Client, jobs, ServerProcess.DefaultFleet);
        var peak = RecordedRuns.AssertNoGpuHeldTwice(runs);
        output.WriteLine($"{jobs.Count} jobs, {runs.Count} runs, at most {peak} GPUs held at once");
        Assert.True(runs.Count >= jobs.Count(j => j.GetProperty("state").GetString() == "succeeded"), "a succeeded job without a recorded run");
        // Once nothing is pending or running in the store, the scheduler holds no GPU either.
        await Task.Delay(2500);   // the sites view is published every 2 s
        var sites = await last.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites");
        Assert.Equal(0, sites.EnumerateArray().Sum(s => s.GetProperty("busyGpus").GetInt32()));
    }
}
