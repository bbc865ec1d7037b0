using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

/// <summary>Every list, string and number of a request is bounded and checked before it costs work; text refuses control characters.</summary>
[Trait("Category", "Server")]
public abstract class InputBoundsTests(Backend backend)
{
    private static async Task<JsonElement> ErrorsOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
    }

    [Fact]
    public async Task A_long_models_list_gets_one_short_error_not_one_per_name()
    {
        await using var server = await RunningServer.StartAsync(backend);
        // 12,000 unknown names: 48 KB, under the test server's 64 KB body limit.
        var many = JsonSerializer.Serialize(new { tenant = "a", gpus = 1, timeLimitSeconds = 60, models = Enumerable.Repeat("x", 12_000) });
        using (var r = await server.PostRawAsync("/api/v1/jobs", many))
        {
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(text.Length < 2_000, $"an answer of {text.Length} characters");
            Assert.Single((await ErrorsOf(r)).GetProperty("models").EnumerateArray());
        }
        // Within the bound, several unknown names are still one error of the field.
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "a", gpus = 1, timeLimitSeconds = 60, models = new[] { "H100", "G", "A100" } }))
            Assert.Single((await ErrorsOf(r)).GetProperty("models").EnumerateArray());
        // Known names past the bound, and one name past its length, are refused too.
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "a", gpus = 1, timeLimitSeconds = 60, models = Enumerable.Repeat("G", 65) }))
            Assert.Single((await ErrorsOf(r)).GetProperty("models").EnumerateArray());
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "a", gpus = 1, timeLimitSeconds = 60, models = new[] { new string('G', 201) } }))
            Assert.Single((await ErrorsOf(r)).GetProperty("models").EnumerateArray());
        // A batch answers one error per job and field.
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs/batch",
            Enumerable.Range(0, 20).Select(_ => new { tenant = "a", gpus = 1, timeLimitSeconds = 60, models = Enumerable.Repeat("x", 60) })))
        {
            var errors = await ErrorsOf(r);
            Assert.Equal(20, errors.EnumerateObject().Count());
            Assert.All(errors.EnumerateObject(), e => Assert.Single(e.Value.EnumerateArray()));
        }
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("name", "\"name\":\"a\\u0000b\"")]
    [InlineData("tenant", "\"tenant\":\"a\\u0000b\"")]
    [InlineData("command", "\"command\":\"clear\\u001b[2J\"")]
    [InlineData("command", "\"command\":\"ok\\rspoofed\"")]
    [InlineData("models", "\"models\":[\"G\\u0000\"]")]
    [InlineData("priorityClass", "\"priorityClass\":\"normal\\u0007\"")]
    public async Task Control_characters_in_text_are_refused_naming_the_field(string field, string member)
    {
        // No tenant tree: any tenant name would do, so only the character check stands in the way.
        await using var server = await RunningServer.StartAsync(backend, tenants: GpuFleet.Core.Tenancy.TenantTree.Empty);
        var json = "{\"gpus\":1,\"timeLimitSeconds\":60," + (field == "tenant" ? "" : "\"tenant\":\"t\",") + member + "}";
        // Refused for what it is (not, say, as an unknown model whose name the answer would echo).
        using (var r = await server.PostRawAsync("/api/v1/jobs", json))
            Assert.Contains("control characters", (await ErrorsOf(r)).GetProperty(field)[0].GetString());
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", "[" + json + "]"))
            Assert.Contains("control characters", (await ErrorsOf(r)).GetProperty("[0]." + field)[0].GetString());
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Tabs_and_newlines_are_kept_in_a_command_and_control_characters_are_refused_in_keys_and_tokens()
    {
        await using var server = await RunningServer.StartAsync(backend, tenants: GpuFleet.Core.Tenancy.TenantTree.Empty);
        var job = await server.PostJobAsync(new { tenant = "t", gpus = 1, timeLimitSeconds = 60, command = "for i in 1 2; do\n\techo $i\ndone" });
        Assert.Equal("for i in 1 2; do\n\techo $i\ndone", job.GetProperty("command").GetString());
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"tenant\":\"t\",\"gpus\":1,\"timeLimitSeconds\":60}", idempotencyKey: "key\twith-tab"))
            Assert.True((await ErrorsOf(r)).TryGetProperty("Idempotency-Key", out _));
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "t\0u" }))
            Assert.True((await ErrorsOf(r)).TryGetProperty("tenant", out _));
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = new string('t', 201) }))
            Assert.True((await ErrorsOf(r)).TryGetProperty("tenant", out _));
        Assert.Single(await server.Client.GetFromJsonAsync<JsonElement[]>("/api/v1/tokens") ?? []);
    }

    [Fact]
    public async Task Concurrent_good_and_bad_submissions_each_get_their_own_answer()
    {
        await using var server = await RunningServer.StartAsync(backend);
        const string good = "{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60}";
        const string bad = "{\"tenant\":\"a\",\"name\":\"a\\u0000b\",\"gpus\":1,\"timeLimitSeconds\":60}";
        var answers = await Task.WhenAll(Enumerable.Range(0, 150).Select(i => Task.Run(async () =>
        {
            using var r = await server.PostRawAsync("/api/v1/jobs", i % 3 == 0 ? bad : good);
            return (Bad: i % 3 == 0, r.StatusCode);
        })));
        Assert.All(answers, a => Assert.Equal(a.Bad ? HttpStatusCode.BadRequest : HttpStatusCode.Created, a.StatusCode));
        Assert.Equal(100, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=1000")).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/v1/jobs?limit=99999999999", "limit")]
    [InlineData("/api/v1/jobs?limit=0", "limit")]
    [InlineData("/api/v1/jobs?after=-1", "after")]
    [InlineData("/api/v1/jobs?after=first", "after")]
    [InlineData("/api/v1/jobs?tenant=a%00b", "tenant")]
    [InlineData("/api/v1/audit?limit=many", "limit")]
    [InlineData("/api/v1/usage?to=0001-01-05T00:00:00Z", "to")]
    [InlineData("/api/v1/usage?from=yesterday", "from")]
    [InlineData("/api/v1/usage?from=9999-12-31T23:59:59Z", "from")]
    [InlineData("/api/v1/usage?tenant=a%01", "tenant")]
    public async Task Bad_query_parameters_are_a_400_naming_the_parameter(string url, string field)
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var r = await server.Client.GetAsync(url);
        Assert.True((await ErrorsOf(r)).TryGetProperty(field, out _), await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_type_error_in_a_batch_names_the_indexed_field()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var r = await server.PostRawAsync("/api/v1/jobs/batch",
            "[{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60},{\"tenant\":\"a\",\"gpus\":\"8\",\"timeLimitSeconds\":60}]");
        var errors = await ErrorsOf(r);
        Assert.Equal(["[1].gpus"], errors.EnumerateObject().Select(e => e.Name));
        // In the API's words, not the serializer's .NET type names.
        Assert.Equal("must be a whole number (a JSON number, not a string)", errors.GetProperty("[1].gpus")[0].GetString());
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class InputBoundsTestsOnSqlite() : InputBoundsTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class InputBoundsTestsOnPostgres() : InputBoundsTests(Backend.Postgres);
