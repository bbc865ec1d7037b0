using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Simulation.Tests;

/// <summary>
/// Kills the real server (SIGKILL) at random moments while clients submit and cancel, restarts it on
/// the same database, and checks that nothing acknowledged was lost or duplicated and that the store
/// and the scheduler agree on what runs. On SQLite and on a real PostgreSQL server.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CrashSafetyTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Acknowledged_jobs_survive_SIGKILL_and_restart(string backend)
    {
        var db = backend == "postgres" ? GpuFleet.Tests.Shared.TestPostgres.NewDatabase() : TestFiles.Temp("crash.db");
        var rng = new Random(42);
        var clients = new SubmittingClients();
        for (var round = 0; round < 3; round++)
        {
            using var server = await ServerProcess.StartAsync(db);
            using var stop = new CancellationTokenSource();
            var load = clients.RunAsync($"r{round}", 8, () => [server.Client], 600, stop.Token);
            await Task.Delay(200 + rng.Next(600));
            server.Kill();
            stop.Cancel();
            await load;
        }

        using var last = await ServerProcess.StartAsync(db);
        await clients.AssertNothingLostOrDuplicatedAsync(last);
        // Let every job finish (run times are at most 600 s at 100x): once nothing is pending or running in the
        // store, the scheduler must hold no GPU either — a GPU held twice, or by a job the store lost, would show here.
        Assert.True(await last.DrainAsync(30), "jobs still pending or running after 30 s");
        await Task.Delay(2500);   // the sites view is published every 2 s
        var sites = await last.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites");
        Assert.Equal(0, sites.EnumerateArray().Sum(s => s.GetProperty("busyGpus").GetInt32()));
        // Jobs that were running when the server died were requeued and ran again: every job ended one way or another.
        Assert.All(await last.AllJobsAsync(), j => Assert.Contains(j.GetProperty("state").GetString(), new[] { "succeeded", "cancelled" }));
    }
}
