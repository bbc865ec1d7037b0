using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// Clients that submit jobs (each with its own idempotency key) and cancel a quarter of them, against
/// servers that may die or freeze under them. They remember every submission's body, which were
/// acknowledged with a 201, which got no answer at all, and which cancellations were acknowledged.
/// </summary>
internal sealed class SubmittingClients
{
    private int _attempts;
    // Every key tried, with its body: a retry must send the same body (the key is bound to it).
    private readonly ConcurrentDictionary<string, object> _bodies = new();
    // Keys whose submission got no answer: stored or not, nobody knows until they are retried.
    private readonly ConcurrentDictionary<string, bool> _unanswered = new();
    private readonly ConcurrentDictionary<long, bool> _cancelled = new();

    /// <summary>Idempotency key → id answered with 201.</summary>
    public ConcurrentDictionary<string, long> Acknowledged { get; } = new();

    /// <summary>Submissions tried, answered or not.</summary>
    public int Attempts => _attempts;

    /// <summary>Submissions that got no answer and have not been retried yet.</summary>
    public int Unanswered => _unanswered.Count;

    /// <summary>Jobs whose cancellation was acknowledged with a 200.</summary>
    public int CancelsAcknowledged => _cancelled.Count;

    /// <summary>Runs <paramref name="clients"/> clients until <paramref name="stop"/>; client c talks to <c>targets()[c % n]</c>, and waits while there are none.</summary>
    public Task RunAsync(string label, int clients, Func<HttpClient[]> targets, int maxRuntimeSeconds, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var local = new Random(HashCode.Combine(label, c));
            while (!stop.IsCancellationRequested)
            {
                var current = targets();
                if (current.Length == 0)
                {
                    await Task.Delay(20);   // paused
                    continue;
                }
                var http = current[c % current.Length];
                var key = $"{label}-c{c}-{Interlocked.Increment(ref _attempts)}";
                var body = new { tenant = $"t{c % 3}", gpus = 1 + local.Next(8), timeLimitSeconds = 600, runtimeSeconds = 1 + local.Next(maxRuntimeSeconds) };
                _bodies[key] = body;
                if (await SubmitAsync(http, key, body) is not { } id)
                {
                    await Task.Delay(20);
                    continue;
                }
                if (local.Next(4) == 0) await CancelAsync(http, id);
            }
        })));

    // The job's id on a 201; null on any other answer or none (then the key is remembered as unanswered).
    private async Task<long?> SubmitAsync(HttpClient http, string key, object body)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await http.SendAsync(request);
            if (response.StatusCode >= HttpStatusCode.InternalServerError)
            {
                _unanswered[key] = true;   // a 5xx may come after a commit: as good as no answer
                return null;
            }
            // Rate-limited before the endpoint ran: that says nothing about an earlier attempt with this key.
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return null;
            _unanswered.TryRemove(key, out _);
            if (response.StatusCode != HttpStatusCode.Created) return null;   // refused: nothing stored
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            Acknowledged[key] = id;
            return id;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // The server died or froze under us: an unanswered call promises nothing.
            _unanswered[key] = true;
            return null;
        }
    }

    private async Task CancelAsync(HttpClient http, long id)
    {
        try
        {
            using var response = await http.DeleteAsync($"/api/v1/jobs/{id}");
            if (response.StatusCode == HttpStatusCode.OK) _cancelled[id] = true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // Unanswered: the job may or may not be cancelled.
        }
    }

    /// <summary>Retries every unanswered submission with its own key and body until each is answered.</summary>
    public async Task RetryUnansweredAsync(HttpClient http)
    {
        for (var round = 0; round < 100 && !_unanswered.IsEmpty; round++)
        {
            foreach (var key in _unanswered.Keys.Order(StringComparer.Ordinal)) await SubmitAsync(http, key, _bodies[key]);
            if (!_unanswered.IsEmpty) await Task.Delay(200);
        }
        Assert.True(_unanswered.IsEmpty, $"{_unanswered.Count} submissions still unanswered after retrying");
    }

    /// <summary>
    /// Once every submission has an answer: the stored jobs are exactly those acknowledged (one per
    /// key, none lost, none extra), each acknowledged cancellation stuck, and a retried key returns its job.
    /// </summary>
    public async Task AssertStoredExactlyAsAcknowledgedAsync(ServerProcess server)
    {
        Assert.Equal(0, Unanswered);
        Assert.True(Acknowledged.Count > 0, "no submission was acknowledged");
        var all = await server.AllJobsAsync();
        var stored = all.Select(j => j.GetProperty("id").GetInt64()).Order().ToList();
        var acknowledged = Acknowledged.Values.Order().ToList();
        Assert.Equal(acknowledged.Count, Acknowledged.Values.Distinct().Count());   // two keys never share a job
        Assert.Equal(acknowledged, stored);
        var states = all.ToDictionary(j => j.GetProperty("id").GetInt64(), j => j.GetProperty("state").GetString());
        Assert.All(_cancelled.Keys, id => Assert.Equal("cancelled", states[id]));
        foreach (var (key, id) in Acknowledged.OrderBy(a => a.Key, StringComparer.Ordinal).Take(20))
            Assert.Equal(id, await SubmitAsync(server.Client, key, _bodies[key]));
        Assert.Equal(stored.Count, (await server.AllJobsAsync()).Count);
    }
}
