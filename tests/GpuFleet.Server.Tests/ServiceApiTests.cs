using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Tests;

/// <summary>
/// The service API and the leader's scaling on a test server (SQLite, a hand-moved clock, two nodes of 8 GPUs):
/// a service's replicas are jobs of its tenant, scaled by the reported or scraped rate or pinned by hand, kept
/// by a new leader, and ended when it is deleted.
/// </summary>
[Trait("Category", "Integration")]
public abstract class ServiceApiTests(Backend backend)
{
    // 2 GPUs a replica; 100 requests/s each at target 0.5: 50 per replica.
    private static object Chat(string tenant = "a", string name = "chat", string? url = null) => url is null
        ? new { name, tenant, gpusPerReplica = 2, minReplicas = 1, maxReplicas = 6, requestsPerSecondPerReplica = 100.0, targetUtilization = 0.5 }
        : new { name, tenant, gpusPerReplica = 2, minReplicas = 1, maxReplicas = 6, requestsPerSecondPerReplica = 100.0, targetUtilization = 0.5, prometheusQueryUrl = url };

    private static async Task<JsonElement> CreateAsync(HttpClient client, object body)
    {
        using var r = await client.PostAsJsonAsync("/api/v1/services", body);
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, string json, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var r = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"{(int)r.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static Task<JsonElement> ShowAsync(RunningServer server, string name = "chat") =>
        server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/services/{name}");

    private static int Running(JsonElement service) => service.GetProperty("runningReplicas").GetInt32();

    [Fact]
    public async Task A_service_with_standby_replicas_holds_them_beyond_what_its_rate_wants()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var created = await CreateAsync(server.Client, new { name = "chat", tenant = "a", gpusPerReplica = 2, minReplicas = 1, maxReplicas = 6,
            requestsPerSecondPerReplica = 100.0, targetUtilization = 0.5, standbyReplicas = 2 });
        Assert.Equal(2, created.GetProperty("standbyReplicas").GetInt32());
        server.Scheduler.Tick();
        // One wanted (its minimum), two more standing by: three running.
        var shown = await ShowAsync(server);
        Assert.Equal((1, 3, 2), (shown.GetProperty("desiredReplicas").GetInt32(), Running(shown), shown.GetProperty("standbyReplicas").GetInt32()));
        Assert.Contains("gpufleet_service_standby_replicas{service=\"chat\",tenant=\"a\"} 2", await server.Client.GetStringAsync("/metrics"));
        // 100 requests/s at 50 per replica: two wanted, two standing by.
        await PostAsync(server.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 100}""");
        server.Scheduler.Tick();
        Assert.Equal(4, Running(await ShowAsync(server)));
        // A count pinned by hand is exactly what runs: nothing stands by.
        await PostAsync(server.Client, "/api/v1/services/chat/scale", """{"replicas": 3}""");
        server.Scheduler.Tick();
        Assert.Equal(3, Running(await ShowAsync(server)));
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("gpufleet_service_running_replicas{service=\"chat\",tenant=\"a\"} 3", metrics);
        Assert.Contains("gpufleet_service_standby_replicas{service=\"chat\",tenant=\"a\"} 0", metrics);
    }

    [Fact]
    public async Task A_service_scales_with_its_load_its_replicas_are_jobs_of_its_tenant_and_deleting_it_ends_them()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var created = await CreateAsync(server.Client, Chat());
        Assert.Equal(("chat", "a", 1, 0), (created.GetProperty("name").GetString(), created.GetProperty("tenant").GetString(),
            created.GetProperty("desiredReplicas").GetInt32(), Running(created)));
        server.Scheduler.Tick();
        var one = await ShowAsync(server);
        Assert.Equal(1, Running(one));
        var replica = one.GetProperty("running")[0];
        Assert.Matches(@"^s-g-\d+ \(GPUs 0-1\)$", replica.GetProperty("hosts").GetString()!);
        Assert.Equal("s", replica.GetProperty("site").GetString());

        // 240 requests/s at 50 per replica: 5 replicas, placed at the next cycle.
        var loaded = await PostAsync(server.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 240}""");
        Assert.Equal((240.0, 5), (loaded.GetProperty("requestsPerSecond").GetDouble(), loaded.GetProperty("desiredReplicas").GetInt32()));
        server.Scheduler.Tick();
        var five = await ShowAsync(server);
        Assert.Equal((5, 0), (Running(five), five.GetProperty("pendingReplicas").GetInt32()));
        var decision = five.GetProperty("decisions").EnumerateArray().Last();
        Assert.Equal((240.0, 5, 4, 0), (decision.GetProperty("requestsPerSecond").GetDouble(), decision.GetProperty("desiredReplicas").GetInt32(),
            decision.GetProperty("submitted").GetInt32(), decision.GetProperty("ended").GetInt32()));
        // Jobs of tenant a in the job listing, running, named after their service.
        var jobs = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?state=running")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, jobs.Count);
        Assert.All(jobs, j => Assert.Equal(("a", "chat replica", 2), (j.GetProperty("tenant").GetString(), j.GetProperty("name").GetString(), j.GetProperty("gpus").GetInt32())));
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("gpufleet_service_running_replicas{service=\"chat\",tenant=\"a\"} 5", metrics);
        Assert.Contains("gpufleet_service_desired_replicas{service=\"chat\",tenant=\"a\"} 5", metrics);
        Assert.Contains("gpufleet_service_requests_per_second{service=\"chat\",tenant=\"a\"} 240", metrics);

        // 14 GPUs for tenant b do not fit beside 10 held by replicas...
        var big = (await server.PostJobAsync(new { tenant = "b", gpus = 14, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        server.Scheduler.Tick();
        Assert.Equal("pending", (await server.GetJobAsync(big)).GetProperty("state").GetString());
        // ...and do once the service scales down to one replica: the GPUs of the ended ones are free in the same cycle.
        await PostAsync(server.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 10}""");
        server.Scheduler.Tick();
        Assert.Equal(1, Running(await ShowAsync(server)));
        Assert.Equal("running", (await server.GetJobAsync(big)).GetProperty("state").GetString());
        var cancelled = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?state=cancelled")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(4, cancelled.Count);
        Assert.All(cancelled, j => Assert.Equal("ended: service 'chat' scaled down to 1 replicas", j.GetProperty("detail").GetString()));

        using (var deleted = await server.Client.DeleteAsync("/api/v1/services/chat"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        server.Scheduler.Tick();
        using (var gone = await server.Client.GetAsync("/api/v1/services/chat"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var last = await server.GetJobAsync(replica.GetProperty("id").GetInt64());
        Assert.Equal(("cancelled", "ended: service 'chat' was deleted"), (last.GetProperty("state").GetString(), last.GetProperty("detail").GetString()));
        Assert.DoesNotContain("service=\"chat\"", await server.Client.GetStringAsync("/metrics"));
        // Every change was audited with the status the client got.
        var audit = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit")).EnumerateArray()
            .Where(e => e.GetProperty("path").GetString()!.StartsWith("/api/v1/services", StringComparison.Ordinal))
            .Select(e => $"{e.GetProperty("method").GetString()} {e.GetProperty("path").GetString()} {e.GetProperty("status").GetInt32()}").Reverse().ToList();
        Assert.Equal(["POST /api/v1/services 201", "POST /api/v1/services/chat/load 200", "POST /api/v1/services/chat/load 200", "DELETE /api/v1/services/chat 204"], audit);
        Assert.Empty(server.Errors.Entries);
    }

    [Fact]
    public async Task A_pinned_replica_count_holds_until_the_next_load_report_or_until_it_is_cleared()
    {
        await using var server = await RunningServer.StartAsync(backend);
        await CreateAsync(server.Client, Chat());
        await PostAsync(server.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 100}""");
        server.Scheduler.Tick();
        Assert.Equal(2, Running(await ShowAsync(server)));
        var pinned = await PostAsync(server.Client, "/api/v1/services/chat/scale", """{"replicas": 4}""");
        Assert.Equal((4, 4), (pinned.GetProperty("pinnedReplicas").GetInt32(), pinned.GetProperty("desiredReplicas").GetInt32()));
        server.Scheduler.Tick();
        Assert.Equal(4, Running(await ShowAsync(server)));
        // Cleared: back to what 100 requests/s needs.
        var cleared = await PostAsync(server.Client, "/api/v1/services/chat/scale", """{"replicas": null}""");
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("pinnedReplicas").ValueKind);
        server.Scheduler.Tick();
        Assert.Equal(2, Running(await ShowAsync(server)));
        // Pinned to 0 (drained), then a load report takes over again.
        await PostAsync(server.Client, "/api/v1/services/chat/scale", """{"replicas": 0}""");
        server.Scheduler.Tick();
        Assert.Equal(0, Running(await ShowAsync(server)));
        var reported = await PostAsync(server.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 140}""");
        Assert.Equal(JsonValueKind.Null, reported.GetProperty("pinnedReplicas").ValueKind);
        server.Scheduler.Tick();
        Assert.Equal(3, Running(await ShowAsync(server)));
    }

    [Fact]
    public async Task Bad_services_and_bad_bodies_are_refused_naming_the_field()
    {
        await using var server = await RunningServer.StartAsync(backend);
        async Task RefusedAsync(string path, string json, string field, string? says = null, HttpStatusCode status = HttpStatusCode.BadRequest)
        {
            var problem = await PostAsync(server.Client, path, json, status);
            var errors = problem.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out var list), $"{json}: {problem}");
            if (says is not null) Assert.Contains(says, list[0].GetString());
        }
        const string Base = "\"name\":\"chat\",\"tenant\":\"a\",\"maxReplicas\":4,\"requestsPerSecondPerReplica\":10";
        await RefusedAsync("/api/v1/services", $"{{{Base},\"replicaz\":2}}", "replicaz", "is not a field of this request");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"slice\":{{\"gpuFraction\":0.5,\"memory\":4}}}}", "slice.memory", "is not a field");
        await RefusedAsync("/api/v1/services", """{"tenant":"a","maxReplicas":4,"requestsPerSecondPerReplica":10}""", "name", "is required");
        await RefusedAsync("/api/v1/services", """{"name":"has space","tenant":"a","maxReplicas":4,"requestsPerSecondPerReplica":10}""", "name", "letters, digits");
        await RefusedAsync("/api/v1/services", """{"name":"chat","tenant":"nobody","maxReplicas":4,"requestsPerSecondPerReplica":10}""", "tenant", "unknown tenant");
        await RefusedAsync("/api/v1/services", """{"name":"chat","tenant":"a","requestsPerSecondPerReplica":10}""", "maxReplicas", "is required");
        await RefusedAsync("/api/v1/services", $"{{{Base.Replace("\"maxReplicas\":4", "\"maxReplicas\":0")}}}", "maxReplicas", "at least 1");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"targetUtilization\":1.5}}", "targetUtilization", "at most 1");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"minReplicas\":-1}}", "minReplicas");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"gpusPerReplica\":\"2\"}}", "gpusPerReplica", "must be a whole number");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"models\":[\"H100\"]}}", "models", "unknown GPU model");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"priorityClass\":\"gold\"}}", "priorityClass", "unknown class");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"cpusPerGpu\":-1}}", "cpusPerGpu");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"latencyBudgetMs\":5}}", "region", "needs the region");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"standbyReplicas\":-1}}", "standbyReplicas", "at least 0");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"standbyReplicas\":5}}", "standbyReplicas", "at most maxReplicas (4)");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"region\":\"Mars\"}}", "region", "no site of the fleet is in region 'Mars'");
        await RefusedAsync("/api/v1/services", $"{{{Base},\"prometheusQueryUrl\":\"ftp://x/y\"}}", "prometheusQueryUrl", "http or https");
        // A replica that could never run, with the scheduler's reason: 9 GPUs on nodes of 8.
        await RefusedAsync("/api/v1/services", $"{{{Base},\"gpusPerReplica\":9}}", "gpusPerReplica", "a replica can never run");
        await RefusedAsync("/api/v1/services", "{\"name\":", "name", "is not valid JSON here");
        await RefusedAsync("/api/v1/services", "[1,2]", "body", "must be a JSON object");
        Assert.Empty((await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/services")).GetProperty("items").EnumerateArray());

        await CreateAsync(server.Client, Chat());
        var duplicate = await PostAsync(server.Client, "/api/v1/services", JsonSerializer.Serialize(Chat()), HttpStatusCode.Conflict);
        Assert.Contains("'chat' exists", duplicate.GetProperty("detail").GetString());
        await RefusedAsync("/api/v1/services/chat/load", """{"requestsPerSecond": -1}""", "requestsPerSecond", "0 or more");
        await RefusedAsync("/api/v1/services/chat/load", """{"requestsPerSecond": "5"}""", "requestsPerSecond", "must be a number");
        await RefusedAsync("/api/v1/services/chat/load", """{}""", "requestsPerSecond", "is required");
        await RefusedAsync("/api/v1/services/chat/load", """{"rps": 5}""", "rps", "is not a field");
        await RefusedAsync("/api/v1/services/chat/scale", """{}""", "replicas", "is required");
        await RefusedAsync("/api/v1/services/chat/scale", """{"replicas": 7}""", "replicas", "from 0 to the service's maxReplicas (6)");
        await RefusedAsync("/api/v1/services/chat/scale", """{"replicas": 1.5}""", "replicas", "whole number");

        // A body over the limit is refused before it is read. The body is an empty object padded with spaces, so that
        // its size is all that is wrong with it: a field the request lacks ("name" to /load) may be refused (400) from
        // the first chunk, before the limit is reached, depending on how the chunks arrive.
        foreach (var path in new[] { "/api/v1/services", "/api/v1/services/chat/load", "/api/v1/services/chat/scale" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent("{" + new string(' ', 100 * 1024) + "}", Encoding.UTF8, "application/json"),
            };
            request.Headers.TransferEncodingChunked = true;
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        Assert.Empty(server.Errors.Entries);
    }

    [Fact]
    public async Task Tenants_see_only_their_services_viewers_only_read_and_calls_without_a_token_are_refused()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var memberA = server.ClientWith(await server.MintAsync("member", "a"));
        using var memberB = server.ClientWith(await server.MintAsync("member", "b"));
        using var viewerA = server.ClientWith(await server.MintAsync("viewer", "a"));
        using var anonymous = server.ClientWith(null);
        // A tenant's token creates for its own tenant (tenant may be left out), not for another's.
        var own = await CreateAsync(memberA, new { name = "chat", maxReplicas = 2, requestsPerSecondPerReplica = 10.0 });
        Assert.Equal("a", own.GetProperty("tenant").GetString());
        await PostAsync(memberA, "/api/v1/services", JsonSerializer.Serialize(Chat("b", "theirs")), HttpStatusCode.Forbidden);
        await CreateAsync(memberB, Chat("b", "embed"));

        Assert.Equal(["chat"], (await memberA.GetFromJsonAsync<JsonElement>("/api/v1/services")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(["chat", "embed"], (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/services")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        // Another tenant's service does not exist, whatever is asked of it.
        using (var r = await memberA.GetAsync("/api/v1/services/embed")) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        await PostAsync(memberA, "/api/v1/services/embed/load", """{"requestsPerSecond": 5}""", HttpStatusCode.NotFound);
        await PostAsync(memberA, "/api/v1/services/embed/scale", """{"replicas": 1}""", HttpStatusCode.NotFound);
        using (var r = await memberA.DeleteAsync("/api/v1/services/embed")) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        // A viewer reads, and changes nothing.
        using (var r = await viewerA.GetAsync("/api/v1/services/chat")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await PostAsync(viewerA, "/api/v1/services", JsonSerializer.Serialize(Chat("a", "more")), HttpStatusCode.Forbidden);
        await PostAsync(viewerA, "/api/v1/services/chat/load", """{"requestsPerSecond": 5}""", HttpStatusCode.Forbidden);
        await PostAsync(viewerA, "/api/v1/services/chat/scale", """{"replicas": 1}""", HttpStatusCode.Forbidden);
        using (var r = await viewerA.DeleteAsync("/api/v1/services/chat")) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        // Without a token: 401 everywhere.
        using (var r = await anonymous.GetAsync("/api/v1/services")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await anonymous.GetAsync("/api/v1/services/chat")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        await PostAsync(anonymous, "/api/v1/services", JsonSerializer.Serialize(Chat("a", "x")), HttpStatusCode.Unauthorized);
        await PostAsync(anonymous, "/api/v1/services/chat/load", """{"requestsPerSecond": 5}""", HttpStatusCode.Unauthorized);
        using (var r = await anonymous.DeleteAsync("/api/v1/services/chat")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        // Nothing changed.
        var chat = await ShowAsync(server);
        Assert.Equal(0.0, chat.GetProperty("requestsPerSecond").GetDouble());
        Assert.Equal(JsonValueKind.Null, chat.GetProperty("pinnedReplicas").ValueKind);
    }

    [Fact]
    public async Task A_new_leader_takes_up_the_services_and_keeps_their_replica_counts()
    {
        var database = RunningServer.NewDatabase(backend);
        long[] ids;
        await using (var first = await RunningServer.StartAsync(backend, database: database))
        {
            await CreateAsync(first.Client, Chat());
            await CreateAsync(first.Client, Chat("b", "embed"));
            await PostAsync(first.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 180}""");
            await PostAsync(first.Client, "/api/v1/services/embed/scale", """{"replicas": 2}""");
            first.Scheduler.Tick();
            var chat = await ShowAsync(first);
            Assert.Equal(4, Running(chat));
            Assert.Equal(2, Running(await ShowAsync(first, "embed")));
            ids = [.. chat.GetProperty("running").EnumerateArray().Select(r => r.GetProperty("id").GetInt64())];
        }
        await using var second = await RunningServer.StartAsync(backend, database: database);
        second.Scheduler.Tick();
        var again = await ShowAsync(second);
        // The same replicas (the same jobs), running again; none submitted anew.
        Assert.Equal((4, 0), (Running(again), again.GetProperty("pendingReplicas").GetInt32()));
        Assert.Equal(ids, again.GetProperty("running").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        Assert.Equal(2, Running(await ShowAsync(second, "embed")));
        Assert.Contains((await second.GetJobAsync(ids[0])).GetProperty("history").EnumerateArray(),
            e => e.GetProperty("detail").GetString()!.StartsWith("requeued: the scheduler changed hands", StringComparison.Ordinal));
        // Ordinary jobs keep ordinary ids, and the new leader scales as the old one did.
        var job = (await second.PostJobAsync(new { tenant = "b", gpus = 1, timeLimitSeconds = 60 })).GetProperty("id").GetInt64();
        Assert.True(job < 1000, $"job id {job}");
        await PostAsync(second.Client, "/api/v1/services/chat/load", """{"requestsPerSecond": 20}""");
        second.Scheduler.Tick();
        Assert.Equal(1, Running(await ShowAsync(second)));
        Assert.Empty(second.Errors.Entries);
    }

    [Fact]
    public async Task The_leader_scrapes_a_prometheus_query_for_the_rate_and_a_failing_scrape_keeps_the_last_rate()
    {
        var answer = """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"chat"},"value":[1764028800.5,"190.5"]}]}}""";
        await using var prometheus = await StartPrometheusAsync(() => answer);
        var url = prometheus.Urls.First();
        await using var server = await RunningServer.StartAsync(backend);
        await CreateAsync(server.Client, Chat(url: $"{url}/api/v1/query?query=rate"));
        await CreateAsync(server.Client, Chat(name: "broken", url: $"{url}/fail"));
        async Task ScrapeAsync()
        {
            server.Scheduler.Tick();          // starts the scrapes that are due
            await server.Scheduler.ScrapesInFlight();
            server.Scheduler.Tick();          // takes them in and scales
        }
        await ScrapeAsync();
        var chat = await ShowAsync(server);
        Assert.Equal((190.5, 4, 4), (chat.GetProperty("requestsPerSecond").GetDouble(), chat.GetProperty("desiredReplicas").GetInt32(), Running(chat)));
        Assert.Equal(JsonValueKind.Null, chat.GetProperty("scrape").GetProperty("error").ValueKind);
        var broken = await ShowAsync(server, "broken");
        Assert.Contains("answered 500", broken.GetProperty("scrape").GetProperty("error").GetString());
        Assert.Equal((0.0, 1), (broken.GetProperty("requestsPerSecond").GetDouble(), Running(broken)));

        // The next scrape is due 15 s later; until then the rate stays.
        answer = """{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764028815.5,"60"]}]}}""";
        await ScrapeAsync();
        Assert.Equal(190.5, (await ShowAsync(server)).GetProperty("requestsPerSecond").GetDouble());
        server.Clock.Advance(TimeSpan.FromSeconds(15));
        await ScrapeAsync();
        Assert.Equal((60.0, 2), ((await ShowAsync(server)).GetProperty("requestsPerSecond").GetDouble(), Running(await ShowAsync(server))));
        // An answer that is no rate fails the scrape; the last rate holds.
        answer = """{"status":"success","data":{"resultType":"vector","result":[]}}""";
        server.Clock.Advance(TimeSpan.FromSeconds(15));
        await ScrapeAsync();
        var kept = await ShowAsync(server);
        Assert.Equal((60.0, "the query returned no sample"), (kept.GetProperty("requestsPerSecond").GetDouble(), kept.GetProperty("scrape").GetProperty("error").GetString()));
        // Failed scrapes are warnings, not errors.
        Assert.Empty(server.Errors.Entries);
    }

    [Theory]
    [InlineData("""{"status":"success","data":{"resultType":"scalar","result":[1,"12.5"]}}""", 12.5, null)]
    [InlineData("""{"status":"error","errorType":"bad_data","error":"parse error"}""", null, "the query failed: parse error")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}}""", null, "is not a finite number")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"-3"]}]}}""", null, "is not a finite number")]
    [InlineData("""{"status":"success","data":{"resultType":"matrix","result":[]}}""", null, "an instant vector or a scalar is needed")]
    [InlineData("not json", null, "not JSON")]
    public void A_prometheus_answer_gives_its_first_sample_or_says_why_not(string json, double? rate, string? error)
    {
        var (read, problem) = Hosting.RateScraper.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal(rate, read);
        if (error is null) Assert.Null(problem);
        else Assert.Contains(error, problem);
    }

    // A stand-in for Prometheus on a free local port: /api/v1/query answers what `answer` gives; /fail answers 500.
    private static async Task<WebApplication> StartPrometheusAsync(Func<string> answer)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/api/v1/query", () => Results.Text(answer(), "application/json"));
        app.MapGet("/fail", () => Results.StatusCode(500));
        await app.StartAsync();
        return app;
    }
}

/// <summary>The service tests on SQLite.</summary>
public sealed class ServiceApiTestsOnSqlite() : ServiceApiTests(Backend.Sqlite);

/// <summary>The service tests on a real PostgreSQL server: its own SQL for services and replica ids.</summary>
[Trait("Category", "Postgres")]
public sealed class ServiceApiTestsOnPostgres() : ServiceApiTests(Backend.Postgres);
