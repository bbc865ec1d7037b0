using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace GpuFleet.Server.Tests;

/// <summary>
/// Thousands of random and mutated requests (<see cref="ApiFuzzer"/>) from four concurrent clients
/// against a real server: no answer may be a 5xx, every refusal must be a problem document, and the
/// stored jobs and tokens must have changed exactly as the successful answers said — no more.
/// The suite runs a fixed seed; <c>GPUFLEET_FUZZ_SEED</c> and <c>GPUFLEET_FUZZ_REQUESTS</c> run others,
/// longer (e.g. <c>GPUFLEET_FUZZ_SEED=7 GPUFLEET_FUZZ_REQUESTS=100000 dotnet test --filter ApiFuzz</c>).
/// </summary>
[Trait("Category", "Server")]
public abstract class ApiFuzzTests(Backend backend, ITestOutputHelper output)
{
    private const int Clients = 4;

    [Fact]
    public async Task Random_and_mutated_requests_never_fail_the_server_and_change_only_what_succeeded()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("GPUFLEET_FUZZ_SEED"), out var s) ? s : 20261202;
        var total = int.TryParse(Environment.GetEnvironmentVariable("GPUFLEET_FUZZ_REQUESTS"), out var n) ? n : 3_000;
        // The suite's run stops after 45 s whatever it has reached; a longer run asked for by name does not.
        var budget = Environment.GetEnvironmentVariable("GPUFLEET_FUZZ_REQUESTS") is null ? TimeSpan.FromSeconds(45) : TimeSpan.MaxValue;
        output.WriteLine($"seed {seed}, {total} requests");
        // Limits high enough that the requests reach the endpoints (the limits have tests of their own).
        await using var server = await RunningServer.StartAsync(backend, requestsPerMinute: 1_000_000,
            adjust: s => s with { RequestsPerMinutePerAddress = 1_000_000, FailedAuthenticationsPerMinutePerAddress = 1_000_000 });
        // The outcome is checked with an admin token of its own, which the requests never revoke.
        using var checker = server.ClientWith(await server.MintAsync("admin", null));
        var tokens = new List<string?> { RunningServer.AdminToken, null, "not-a-token" };
        foreach (var (role, tenant) in new[] { ("member", "a"), ("tenant-admin", "a"), ("viewer", "a"), ("member", "b") })
            tokens.Add(await server.MintAsync(role, tenant));
        var before = await TokenIdsAsync(server);
        var kept = before.ToHashSet();

        var jobs = new ConcurrentDictionary<long, bool>();
        var cancelled = new ConcurrentDictionary<long, bool>();
        var minted = new ConcurrentDictionary<long, bool>();
        var revoked = new ConcurrentDictionary<long, bool>();
        var outcomes = new ConcurrentDictionary<(string Kind, bool Success), int>();
        var failures = new ConcurrentQueue<string>();
        var watch = Stopwatch.StartNew();
        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var fuzzer = new ApiFuzzer(new Random(seed + c), tokens, kept, () => [.. jobs.Keys]);
            using var http = new HttpClient { BaseAddress = server.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var previous = "";
            while (Interlocked.Increment(ref sent) <= total && watch.Elapsed < budget && failures.Count < 20)
            {
                var request = fuzzer.Next();
                using var message = new HttpRequestMessage(request.Method, request.Path);
                if (request.Body is not null)
                {
                    message.Content = new ByteArrayContent(request.Body);
                    if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
                }
                if (request.Authorization is not null) message.Headers.TryAddWithoutValidation("Authorization", request.Authorization);
                if (request.IdempotencyKey is not null) message.Headers.TryAddWithoutValidation("Idempotency-Key", request.IdempotencyKey);
                var sentAs = $"{request.Method} {Shorten(request.Path)} ({request.ContentType}, key {request.IdempotencyKey}, auth {Shorten(request.Authorization ?? "")}) body {Shorten(request.Body is null ? "" : System.Text.Encoding.UTF8.GetString(request.Body))}";
                HttpResponseMessage response;
                string text;
                try
                {
                    response = await http.SendAsync(message);
                    text = await response.Content.ReadAsStringAsync();
                }
                catch (HttpRequestException e) when (request.Body?.Length > RunningServer.MaxRequestBodyBytes && e.InnerException is IOException)
                {
                    // Refused (413) before the client finished sending a body over the limit: the server
                    // closes the connection rather than read the rest, and the client, still writing,
                    // sees the broken pipe before it reads the answer.
                    outcomes.AddOrUpdate((request.Kind, false), 1, (_, k) => k + 1);
                    continue;
                }
                catch (HttpRequestException e)
                {
                    failures.Enqueue($"no answer ({e.InnerException?.Message ?? e.Message}): {sentAs}\n   after {previous}");
                    previous = sentAs;
                    continue;
                }
                using var answered = response;
                var code = (int)response.StatusCode;
                var what = $"{sentAs} → {code} {Shorten(text)}";
                previous = what;
                outcomes.AddOrUpdate((request.Kind, code < 400), 1, (_, k) => k + 1);
                if (code >= 500)
                {
                    failures.Enqueue("server error: " + what);
                    continue;
                }
                if (code >= 400)
                {
                    if (!IsProblem(response, text, code)) failures.Enqueue("not a problem document: " + what);
                    continue;
                }
                Record(request, text, jobs, cancelled, minted, revoked);
            }
        })));
        var attempted = Math.Min(sent, total);
        output.WriteLine($"{attempted} requests in {watch.Elapsed.TotalSeconds:F1} s");
        foreach (var ((kind, success), count) in outcomes.OrderBy(o => o.Key.Kind, StringComparer.Ordinal).ThenBy(o => o.Key.Success))
            output.WriteLine($"  {kind,-28} {(success ? "success" : "refused"),-8} {count}");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)) + "\nserver errors:\n" + string.Join("\n", server.Errors.Entries.Take(5)));
        Assert.Empty(server.Errors.Entries);
        // The generator reaches past authentication and validation: every endpoint both succeeded and refused.
        foreach (var kind in outcomes.Keys.Select(k => k.Kind).Distinct())
        {
            Assert.True(outcomes.GetValueOrDefault((kind, false)) > 0, $"{kind} was never refused");
            if (attempted >= 3_000) Assert.True(outcomes.GetValueOrDefault((kind, true)) > 0, $"{kind} never succeeded");
        }

        // Stored data changed only by successes: exactly the jobs answered 201, cancelled exactly by the 200s.
        var stored = new List<JsonElement>();
        for (long after = 0; ;)
        {
            var page = await checker.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?limit=1000&after={after}");
            stored.AddRange(page.GetProperty("items").EnumerateArray());
            if (page.GetProperty("next").ValueKind == JsonValueKind.Null) break;
            after = page.GetProperty("next").GetInt64();
        }
        Assert.Equal(jobs.Keys.Order(), stored.Select(j => j.GetProperty("id").GetInt64()).Order());
        Assert.Equal(cancelled.Keys.Order(), stored.Where(j => j.GetProperty("state").GetString() == "cancelled").Select(j => j.GetProperty("id").GetInt64()).Order());
        var after2 = await checker.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        Assert.Equal(before.Concat(minted.Keys).Order(), after2.EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).Order());
        Assert.Equal(revoked.Keys.Order(), after2.EnumerateArray().Where(t => t.GetProperty("revokedAt").ValueKind != JsonValueKind.Null)
            .Select(t => t.GetProperty("id").GetInt64()).Order());
    }

    private static void Record(ApiFuzzer.Request request, string text, ConcurrentDictionary<long, bool> jobs, ConcurrentDictionary<long, bool> cancelled,
        ConcurrentDictionary<long, bool> minted, ConcurrentDictionary<long, bool> revoked)
    {
        if (request.Method == HttpMethod.Get) return;
        var body = JsonDocument.Parse(text).RootElement;
        switch (request.Kind)
        {
            case "POST /api/v1/jobs":
                jobs[body.GetProperty("id").GetInt64()] = true;
                break;
            case "POST /api/v1/jobs/batch":
                foreach (var j in body.EnumerateArray()) jobs[j.GetProperty("id").GetInt64()] = true;
                break;
            case "POST /api/v1/tokens":
                minted[body.GetProperty("id").GetInt64()] = true;
                break;
            case "DELETE /api/v1/jobs/{id}":
                cancelled[body.GetProperty("id").GetInt64()] = true;
                break;
            case "DELETE /api/v1/tokens/{id}":
                revoked[body.GetProperty("id").GetInt64()] = true;
                break;
        }
    }

    // RFC 9457: a JSON object of type application/problem+json whose status, when given, is the answer's.
    private static bool IsProblem(HttpResponseMessage response, string text, int code)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") return false;
        try
        {
            var doc = JsonDocument.Parse(text).RootElement;
            return doc.ValueKind == JsonValueKind.Object && doc.TryGetProperty("title", out _)
                && (!doc.TryGetProperty("status", out var status) || status.GetInt32() == code);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task<List<long>> TokenIdsAsync(RunningServer server) =>
        [.. (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/tokens")).EnumerateArray().Select(t => t.GetProperty("id").GetInt64())];

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + $"… ({s.Length} chars)";
}

/// <summary>The fuzz test on SQLite.</summary>
public sealed class ApiFuzzTestsOnSqlite(ITestOutputHelper output) : ApiFuzzTests(Backend.Sqlite, output);

/// <summary>The fuzz test on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class ApiFuzzTestsOnPostgres(ITestOutputHelper output) : ApiFuzzTests(Backend.Postgres, output);
