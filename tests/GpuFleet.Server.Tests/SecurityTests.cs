using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

[Trait("Category", "Server")]
public abstract class SecurityTests(Backend backend)
{
    [Fact]
    public async Task Missing_or_forged_tokens_get_401_and_change_nothing()
    {
        await using var server = await RunningServer.StartAsync(backend);
        foreach (var token in new string?[] { null, "forged", RunningServer.AdminToken + "x" })
        {
            using var client = server.ClientWith(token);
            using var post = await client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "a", gpus = 1, timeLimitSeconds = 60 });
            Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
            Assert.Equal("application/problem+json", post.Content.Headers.ContentType?.MediaType);
            using var get = await client.GetAsync("/api/v1/jobs");
            Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
        }
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        using var health = await server.ClientWith(null).GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_tenant_token_sees_and_touches_only_its_own_tenant()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var a = server.ClientWith(await server.MintAsync("member", "a"));
        using var b = server.ClientWith(await server.MintAsync("member", "b"));
        using var viewer = server.ClientWith(await server.MintAsync("viewer", "a"));

        // No tenant in the body: the token's tenant.
        using var mine = await a.PostAsJsonAsync("/api/v1/jobs", new { gpus = 1, timeLimitSeconds = 60 });
        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        var id = (await mine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        using (var r = await a.PostAsJsonAsync("/api/v1/jobs", new { tenant = "b", gpus = 1, timeLimitSeconds = 60 }))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await b.GetAsync($"/api/v1/jobs/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await b.DeleteAsync($"/api/v1/jobs/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal(0, (await b.GetFromJsonAsync<JsonElement>("/api/v1/jobs?tenant=a")).GetProperty("items").GetArrayLength());
        using (var r = await viewer.GetAsync($"/api/v1/jobs/{id}"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await viewer.DeleteAsync($"/api/v1/jobs/{id}"))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await viewer.PostAsJsonAsync("/api/v1/jobs", new { gpus = 1, timeLimitSeconds = 60 }))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Equal("pending", (await server.GetJobAsync(id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Only_admins_mint_any_token_and_read_the_audit_log_of_every_change()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var tenantAdmin = server.ClientWith(await server.MintAsync("tenant-admin", "a"));
        using (var r = await tenantAdmin.PostAsJsonAsync("/api/v1/tokens", new { role = "admin" }))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await tenantAdmin.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "b" }))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await tenantAdmin.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "a" }))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "nobody" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("\"tenant\"", await r.Content.ReadAsStringAsync());
        }
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "root", tenant = "a" }))
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var r = await tenantAdmin.GetAsync("/api/v1/audit"))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);

        var log = await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit");
        var entries = log.EnumerateArray().ToList();
        // Every POST above is there, with who did it and the answer, newest first; reads are not, nor
        // refused calls (the two 403s: they are counted in the metrics).
        Assert.Equal(4, entries.Count);
        Assert.All(entries, e => Assert.Equal("/api/v1/tokens", e.GetProperty("path").GetString()));
        Assert.Equal([400, 400, 201, 201], entries.Select(e => e.GetProperty("status").GetInt32()));
        Assert.Equal("TenantAdmin", entries[2].GetProperty("role").GetString());
        Assert.Equal("a", entries[2].GetProperty("tenant").GetString());
    }

    [Theory]
    [InlineData("5-", HttpStatusCode.BadRequest)]
    [InlineData("-1", HttpStatusCode.BadRequest)]
    [InlineData("tenantadmin", HttpStatusCode.BadRequest)]
    [InlineData("member ", HttpStatusCode.BadRequest)]
    [InlineData("Tenant-Admin", HttpStatusCode.Created)]
    [InlineData("VIEWER", HttpStatusCode.Created)]
    public async Task A_role_is_exactly_one_of_the_four_names_in_any_case(string role, HttpStatusCode expected)
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role, tenant = "a" });
        Assert.Equal(expected, r.StatusCode);
        if (expected == HttpStatusCode.BadRequest) Assert.Contains("\"role\"", await r.Content.ReadAsStringAsync());
        // Every stored role is one of the four.
        Assert.All((await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/tokens")).EnumerateArray(),
            t => Assert.Contains(t.GetProperty("role").GetString(), new[] { "admin", "tenant-admin", "member", "viewer" }));
    }

    [Fact]
    public async Task A_tenant_admin_cannot_tell_unknown_tenants_from_other_tenants()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var tenantAdmin = server.ClientWith(await server.MintAsync("tenant-admin", "a"));
        foreach (var other in new[] { "b", "nobody" })
        {
            using var r = await tenantAdmin.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = other });
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }
    }

    [Fact]
    public async Task A_revoked_token_is_refused_and_only_an_admin_its_tenant_admin_or_its_holder_may_revoke_it()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var minted = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "a" });
        var answer = await minted.Content.ReadFromJsonAsync<JsonElement>();
        var id = answer.GetProperty("id").GetInt64();
        using var member = server.ClientWith(answer.GetProperty("token").GetString());
        using var otherAdmin = server.ClientWith(await server.MintAsync("tenant-admin", "b"));
        using var tenantAdmin = server.ClientWith(await server.MintAsync("tenant-admin", "a"));
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/api/v1/jobs")).StatusCode);

        // Listing shows ids, roles and tenants, never a token; a member may not list.
        var listed = await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        Assert.All(listed.EnumerateArray(), t => Assert.Equal("a", t.GetProperty("tenant").GetString()));
        Assert.Contains(listed.EnumerateArray(), t => t.GetProperty("id").GetInt64() == id && t.GetProperty("role").GetString() == "member");
        Assert.DoesNotContain(answer.GetProperty("token").GetString()!, await tenantAdmin.GetStringAsync("/api/v1/tokens"));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("/api/v1/tokens")).StatusCode);

        // Another tenant's admin cannot even see it; its own tenant's admin revokes it, once.
        Assert.Equal(HttpStatusCode.NotFound, (await otherAdmin.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/api/v1/jobs")).StatusCode);
        using (var revoked = await tenantAdmin.DeleteAsync($"/api/v1/tokens/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
            Assert.NotEqual(JsonValueKind.Null, (await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revokedAt").ValueKind);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await member.GetAsync("/api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await tenantAdmin.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        // A holder may revoke its own token.
        Assert.Equal(HttpStatusCode.OK, (await otherAdmin.DeleteAsync("/api/v1/tokens/" +
            (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/tokens")).EnumerateArray()
                .Single(t => t.GetProperty("tenant").GetString() == "b").GetProperty("id").GetInt64())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherAdmin.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task A_token_over_its_rate_gets_429()
    {
        await using var server = await RunningServer.StartAsync(backend, requestsPerMinute: 5);
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            using var r = await server.Client.GetAsync("/api/v1/jobs");
            codes.Add(r.StatusCode);
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5).Concat([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests]), codes);
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class SecurityTestsOnSqlite() : SecurityTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class SecurityTestsOnPostgres() : SecurityTests(Backend.Postgres);
