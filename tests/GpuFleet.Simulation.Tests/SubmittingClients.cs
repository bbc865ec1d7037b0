using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Simulation.Tests;

/// <summary>
/// Clients that submit jobs (each with its own idempotency key) and cancel a quarter of them, against
/// servers that may die under them; they remember which submissions were acknowledged with a 201.
/// </summary>
internal sealed class SubmittingClients
{
    private int _attempts;

    /// <summary>Idempotency key → id answered with 201.</summary>
    public Dictionary<string, long> Acknowledged { get; } = [];

    // Idempotency key → the body sent with it: a retry must send the same request.
    private readonly Dictionary<string, string> _bodies = [];

    /// <summary>Submissions tried, answered or not.</summary>
    public int Attempts => _attempts;

    /// <summary>Runs <paramref name="clients"/> clients until <paramref name="stop"/>; client c talks to <c>targets()[c % n]</c>.</summary>
    public Task RunAsync(string label, int clients, Func<HttpClient[]> targets, int maxRuntimeSeconds, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var local = new Random(HashCode.Combine(label, c));
            while (!stop.IsCancellationRequested)
            {
                var current = targets();
                var http = current[c % current.Length];
                var key = $"{label}-c{c}-{Interlocked.Increment(ref _attempts)}";
                try
                {
                    var body = JsonSerializer.Serialize(new { tenant = $"t{c % 3}", gpus = 1 + local.Next(8), timeLimitSeconds = 600, runtimeSeconds = 1 + local.Next(maxRuntimeSeconds) });
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs")
                    {
                        Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
                    };
                    request.Headers.Add("Idempotency-Key", key);
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode != HttpStatusCode.Created) continue;
                    var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                    lock (Acknowledged)
                    {
                        Acknowledged[key] = id;
                        _bodies[key] = body;
                    }
                    if (local.Next(4) == 0) (await http.DeleteAsync($"/api/v1/jobs/{id}")).Dispose();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The server died under us: an unanswered call promises nothing.
                    await Task.Delay(20);
                }
            }
        })));

    /// <summary>Checks that every 201 is stored, that there are no more jobs than submissions, and that retrying a key returns its job.</summary>
    public async Task AssertNothingLostOrDuplicatedAsync(ServerProcess server)
    {
        Assert.True(Acknowledged.Count > 0, "no submission was acknowledged");
        var all = await server.AllJobsAsync();
        var ids = all.Select(j => j.GetProperty("id").GetInt64()).ToHashSet();
        Assert.All(Acknowledged.Values, id => Assert.Contains(id, ids));
        Assert.True(all.Count <= Attempts, $"{all.Count} jobs stored from {Attempts} submissions");
        foreach (var (key, id) in Acknowledged.Take(20))
        {
            using var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent(_bodies[key], System.Text.Encoding.UTF8, "application/json") };
            retry.Headers.Add("Idempotency-Key", key);
            using var r = await server.Client.SendAsync(retry);
            Assert.Equal(id, (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
        }
        Assert.Equal(ids.Count, (await server.AllJobsAsync()).Count);
    }
}
