using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>The audit log records what each state-changing call did, as the client saw it, in the same transaction as the change.</summary>
[Trait("Category", "Server")]
public abstract class AuditTests(Backend backend)
{
    // Breaks the server's database under it, as a full disk or a bad migration would.
    private static void Sql(RunningServer server, string sql)
    {
        using var store = new JobStore(server.Database);
        using var c = store.Open();
        JobStore.Exec(c, null, sql);
    }

    [Fact]
    public async Task A_call_that_fails_late_is_audited_with_the_status_the_client_got()
    {
        await using var server = await RunningServer.StartAsync(backend);
        Sql(server, "DROP TABLE job_events;");
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "a", gpus = 1, timeLimitSeconds = 60 }))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        var newest = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit"))[0];
        Assert.Equal(("POST", "/api/v1/jobs", 500), (newest.GetProperty("method").GetString(), newest.GetProperty("path").GetString(), newest.GetProperty("status").GetInt32()));
    }

    [Fact]
    public async Task Refused_calls_are_counted_in_the_metrics_and_not_written_to_the_audit_log()
    {
        await using var server = await RunningServer.StartAsync(backend, requestsPerMinute: 5);
        using var viewer = server.ClientWith(await server.MintAsync("viewer", "a"));
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var r = await viewer.PostAsJsonAsync("/api/v1/jobs", new { gpus = 1, timeLimitSeconds = 60 });
            codes.Add(r.StatusCode);
        }
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Forbidden, 5), HttpStatusCode.TooManyRequests], codes);
        using (var forged = server.ClientWith("forged"))
        using (var r = await forged.DeleteAsync("/api/v1/jobs/1"))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);

        var log = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit")).EnumerateArray().ToList();
        Assert.Equal([201], log.Select(e => e.GetProperty("status").GetInt32()));
        var metrics = await server.ClientWith(null).GetStringAsync("/metrics");
        Assert.Contains("gpufleet_refused_requests_total{status=\"403\"} 5", metrics);
        Assert.Contains("gpufleet_refused_requests_total{status=\"429\"} 1", metrics);
        Assert.Contains("gpufleet_refused_requests_total{status=\"401\"} 1", metrics);
    }

    [Fact]
    public async Task A_change_is_not_made_when_its_audit_entry_cannot_be_committed_with_it()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var job = (await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 })).GetProperty("id").GetInt64();
        using var minted = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "a" });
        var token = await minted.Content.ReadFromJsonAsync<JsonElement>();
        using var member = server.ClientWith(token.GetProperty("token").GetString());
        var tokens = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/tokens")).GetArrayLength();

        Sql(server, "DROP TABLE audit;");
        using (var r = await server.Client.DeleteAsync($"/api/v1/jobs/{job}"))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Equal("pending", (await server.GetJobAsync(job)).GetProperty("state").GetString());
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs/batch", new[] { new { tenant = "a", gpus = 1, timeLimitSeconds = 60 } }))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Single((await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").EnumerateArray());
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "b" }))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Equal(tokens, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/tokens")).GetArrayLength());
        using (var r = await server.Client.DeleteAsync($"/api/v1/tokens/{token.GetProperty("id").GetInt64()}"))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        using (var r = await member.GetAsync("/api/v1/jobs"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class AuditTestsOnSqlite() : AuditTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class AuditTestsOnPostgres() : AuditTests(Backend.Postgres);
