using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// The server SIGKILLed while its jobs run on a real Slurm (<see cref="TestSlurm"/>, nodes n11-n16), then
/// started again on the same database: it adopts the runs Slurm still has, launches none of them twice,
/// and every job ends once.
/// </summary>
[Trait("Category", "Slurm")]
public sealed class SlurmCrashTests
{
    [Fact]
    public async Task A_server_killed_while_its_jobs_run_on_slurm_adopts_them_and_none_runs_twice()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"gpufleet-slurm-crash-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var fleet = Path.Combine(dir, "fleet.yaml");
        File.WriteAllText(fleet, $$"""
            name: slurm
            models:
              - { name: G, memoryGb: 80, busyWatts: 700, idleWatts: 100, relativeSpeed: 1 }
            sites:
              - name: hpc
                owner: o
                powerCapMw: 10
                executor: { kind: slurm, slurmConf: "{{TestSlurm.Conf}}", pollSeconds: 1, inventorySeconds: 1 }
            pools:
              - { site: hpc, model: G, gpusPerNode: 8, domains: 6, nodeNames: "n{11}" }
            """);
        var database = Path.Combine(dir, "gpufleet.db");
        var ids = new List<long>();
        try
        {
            using (var first = await ServerProcess.StartAsync(database, fleet, timeScale: 1))
            {
                FreshJobIds.Start(database);
                for (var i = 0; i < 6; i++)
                {
                    using var response = await first.Client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "lab", gpus = 4, timeLimitSeconds = 600, command = "sleep 10" });
                    Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
                    ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
                }
                await Until(() => Task.FromResult(ids.All(id => Runs(id).Any(r => r.State == "RUNNING"))), "every job running on Slurm");
                first.Kill();
            }
            using var second = await ServerProcess.StartAsync(database, fleet, timeScale: 1);
            await Until(async () => (await Jobs(second, ids)).All(j => j.GetProperty("state").GetString() is "succeeded" or "failed"), "every job ended");
            foreach (var (job, id) in (await Jobs(second, ids)).Zip(ids))
            {
                Assert.Equal("succeeded", job.GetProperty("state").GetString());
                Assert.Equal("COMPLETED", Assert.Single(Runs(id)).State);
                Assert.DoesNotContain(job.GetProperty("history").EnumerateArray(), e => e.GetProperty("detail").GetString() is { } d && d.StartsWith("requeued", StringComparison.Ordinal));
            }
        }
        finally
        {
            if (ids.Count > 0) TestSlurm.Tool("scancel", "--name", string.Join(',', ids.Select(id => $"gpufleet-{id}")));
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<JsonElement[]> Jobs(ServerProcess server, List<long> ids) =>
        [.. await Task.WhenAll(ids.Select(id => server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}")))];

    private static List<(string State, string Nodes)> Runs(long id) => TestSlurm.Runs($"gpufleet-{id}");

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(120); DateTime.UtcNow < deadline; await Task.Delay(250))
            if (await condition()) return;
        Assert.Fail($"not within 120 s: {what}");
    }
}
