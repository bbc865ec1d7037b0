using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

/// <summary>An <c>Idempotency-Key</c> stands for one request of one caller: a retry gets the first answer, another request a 422.</summary>
[Trait("Category", "Server")]
public abstract class IdempotencyTests(Backend backend)
{
    private static async Task AssertKeyReused(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.True((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
    }

    private static async Task<long[]> IdsOf(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return [.. (await r.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(j => j.GetProperty("id").GetInt64())];
    }

    [Fact]
    public async Task A_key_used_again_for_another_body_or_by_another_token_is_refused_and_a_retry_gets_the_first_job()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var first = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 600 }, "k-1")).GetProperty("id").GetInt64();
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"tenant\":\"a\",\"gpus\":16,\"timeLimitSeconds\":600}", "k-1"))
            await AssertKeyReused(r);
        // The same job written otherwise (defaults spelled out, other order) is the same request.
        var again = await server.PostJobAsync(new { timeLimitSeconds = 600, name = "job", priority = 0, gpus = 8, tenant = "a" }, "k-1");
        Assert.Equal(first, again.GetProperty("id").GetInt64());
        // Keys are unique within the caller's tenant; another token's request is another request, however alike.
        using var member = server.ClientWith(await server.MintAsync("member", "a"));
        using var colleague = server.ClientWith(await server.MintAsync("member", "a"));
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"gpus\":8,\"timeLimitSeconds\":600}", "k-2", member))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"gpus\":8,\"timeLimitSeconds\":600}", "k-2", colleague))
            await AssertKeyReused(r);
        Assert.Equal(2, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_retried_batch_with_the_same_key_gets_the_same_jobs_and_stores_nothing_twice()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var batch = JsonSerializer.Serialize(Enumerable.Range(0, 3).Select(i => new { name = $"j{i}", tenant = "a", gpus = 1, timeLimitSeconds = 60 }));
        long[] ids;
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", batch, "b-1"))
            ids = await IdsOf(r);
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", batch, "b-1"))
            Assert.Equal(ids, await IdsOf(r));
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", batch.Replace("\"j2\"", "\"other\""), "b-1"))
            await AssertKeyReused(r);
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60}", "b-1"))
            await AssertKeyReused(r);
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", batch, "b-2"))
            Assert.DoesNotContain((await IdsOf(r))[0], ids);
        Assert.Equal(6, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class IdempotencyTestsOnSqlite() : IdempotencyTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class IdempotencyTestsOnPostgres() : IdempotencyTests(Backend.Postgres);
