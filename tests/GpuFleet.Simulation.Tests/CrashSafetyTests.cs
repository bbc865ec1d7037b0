using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Simulation.Tests;

/// <summary>
/// Kills the real server (SIGKILL) at random moments while clients submit and cancel, restarts it on
/// the same SQLite file, and checks that nothing acknowledged was lost or duplicated and that the
/// store and the scheduler agree on what runs.
/// </summary>
[Trait("Category", "Integration")]
public sealed class CrashSafetyTests
{
    private const string Admin = "crash-test-admin";

    [Fact]
    public async Task Acknowledged_jobs_survive_SIGKILL_and_restart_on_SQLite()
    {
        var db = TestFiles.Temp("crash.db");
        var rng = new Random(42);
        var acked = new Dictionary<string, long>();   // idempotency key -> id answered with 201
        var attempts = 0;
        for (var round = 0; round < 3; round++)
        {
            var (server, http) = await StartAsync(db);
            using (http)
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(400 + rng.Next(800)));
                var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
                {
                    var local = new Random(round * 100 + c);
                    while (!stop.IsCancellationRequested)
                    {
                        var key = $"r{round}-c{c}-{Interlocked.Increment(ref attempts)}";
                        try
                        {
                            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs")
                            {
                                Content = JsonContent.Create(new { tenant = $"t{c % 3}", gpus = 1 + local.Next(8), timeLimitSeconds = 600, runtimeSeconds = 1 + local.Next(600) }),
                            };
                            request.Headers.Add("Idempotency-Key", key);
                            using var response = await http.SendAsync(request);
                            if (response.StatusCode != HttpStatusCode.Created) continue;
                            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                            lock (acked) acked[key] = id;
                            if (local.Next(4) == 0) (await http.DeleteAsync($"/api/v1/jobs/{id}")).Dispose();
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                        {
                            // The server died under us: an unanswered call promises nothing.
                        }
                    }
                })).ToArray();
                await Task.Delay(200 + rng.Next(600));
                server.Kill(entireProcessTree: true);   // SIGKILL: no shutdown, no flush
                server.WaitForExit();
                stop.Cancel();
                await Task.WhenAll(clients);
            }
        }

        var (last, client) = await StartAsync(db);
        try
        {
            using (client)
            {
                Assert.True(acked.Count > 0, "no submission was acknowledged");
                var all = new List<JsonElement>();
                long after = 0;
                while (true)
                {
                    var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?limit=1000&after={after}");
                    var items = page.GetProperty("items").EnumerateArray().ToList();
                    all.AddRange(items);
                    if (page.GetProperty("next").ValueKind == JsonValueKind.Null) break;
                    after = page.GetProperty("next").GetInt64();
                }
                var ids = all.Select(j => j.GetProperty("id").GetInt64()).ToHashSet();
                // Every 201 is on disk, and there are no more jobs than submissions.
                Assert.All(acked.Values, id => Assert.Contains(id, ids));
                Assert.True(all.Count <= attempts);
                // A retried submission returns the stored job: no duplicate.
                foreach (var (key, id) in acked.Take(20))
                {
                    var tenant = all.First(j => j.GetProperty("id").GetInt64() == id).GetProperty("tenant").GetString();
                    using var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = JsonContent.Create(new { tenant, gpus = 1, timeLimitSeconds = 600 }) };
                    retry.Headers.Add("Idempotency-Key", key);
                    using var r = await client.SendAsync(retry);
                    Assert.Equal(id, (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
                }
                var count = (await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=1000&after=0")).GetProperty("items").GetArrayLength();
                Assert.Equal(Math.Min(all.Count, 1000), count);

                // Let every job finish (run times are at most 600 s at 100x): once nothing is pending or running in the
                // store, the scheduler must hold no GPU either — a GPU held twice, or by a job the store lost, would show here.
                JsonElement Count(string state) => client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?state={state}&limit=1").Result;
                for (var i = 0; i < 300 && (Count("pending").GetProperty("items").GetArrayLength() > 0 || Count("running").GetProperty("items").GetArrayLength() > 0); i++)
                    await Task.Delay(100);
                Assert.Equal(0, Count("pending").GetProperty("items").GetArrayLength());
                Assert.Equal(0, Count("running").GetProperty("items").GetArrayLength());
                await Task.Delay(1500);
                var sites = await client.GetFromJsonAsync<JsonElement>("/api/v1/sites");
                Assert.Equal(0, sites.EnumerateArray().Sum(s => s.GetProperty("busyGpus").GetInt32()));
                // Jobs that were running when the server died were requeued and ran again: every job ended one way or another.
                var final = (await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=1000")).GetProperty("items").EnumerateArray();
                Assert.All(final, j => Assert.Contains(j.GetProperty("state").GetString(), new[] { "succeeded", "cancelled" }));
            }
        }
        finally
        {
            last.Kill(entireProcessTree: true);
            last.WaitForExit();
        }
    }

    private static async Task<(Process Server, HttpClient Client)> StartAsync(string db)
    {
        var port = TestFiles.FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "gpufleet.dll"), "serve", "--fleet", "fleets/korea-2026.yaml", "--db", db,
                     "--urls", $"http://127.0.0.1:{port}", "--time-scale", "100" })
            psi.ArgumentList.Add(a);
        psi.Environment["GPUFLEET_ADMIN_TOKEN"] = Admin;
        var server = Process.Start(psi)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Admin);
        for (var i = 0; i < 200; i++)
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode) return (server, http);
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(50);
        }
        throw new InvalidOperationException("the server did not start");
    }
}
