using System.Net;
using System.Net.Http.Json;
using System.Text;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>What a flood of requests can and cannot do: rate limits per token and per address, failed authentications, oversized bodies.</summary>
[Trait("Category", "Server")]
public sealed class FloodTests
{
    [Fact]
    public async Task Anonymous_requests_exhaust_only_their_address_bucket_and_healthz_is_never_limited()
    {
        await using var server = await RunningServer.StartAsync(requestsPerMinute: 5, adjust: s => s with { RequestsPerMinutePerAddress = 5 });
        using var anonymous = server.ClientWith(null);
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
        using (var refused = await anonymous.GetAsync("/metrics"))
            AssertTooManyRequests(refused);

        // Liveness probes and token holders on the same address are not affected.
        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task Each_client_address_has_its_own_bucket_and_forwarded_addresses_count_only_from_a_trusted_proxy()
    {
        // Untrusted: X-Forwarded-For is ignored, so varying it does not escape the limit.
        await using (var untrusting = await RunningServer.StartAsync(adjust: s => s with { RequestsPerMinutePerAddress = 3 }))
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 1; i <= 5; i++)
                codes.Add(await AnonymousGetFrom(untrusting, $"10.0.0.{i}"));
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], codes);
        }

        await using var trusting = await RunningServer.StartAsync(adjust: s => s with
        {
            RequestsPerMinutePerAddress = 3, TrustedProxies = [System.Net.IPNetwork.Parse("127.0.0.1/32")],
        });
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, await AnonymousGetFrom(trusting, "10.0.0.1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AnonymousGetFrom(trusting, "10.0.0.1"));
        Assert.Equal(HttpStatusCode.OK, await AnonymousGetFrom(trusting, "10.0.0.2"));
        // IPv6 clients are counted by their /64: a host has a whole prefix to draw addresses from.
        for (var i = 1; i <= 3; i++)
            Assert.Equal(HttpStatusCode.OK, await AnonymousGetFrom(trusting, $"2001:db8:1:2::{i}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AnonymousGetFrom(trusting, "2001:db8:1:2:ffff::9"));
        Assert.Equal(HttpStatusCode.OK, await AnonymousGetFrom(trusting, "2001:db8:1:3::1"));
    }

    [Fact]
    public async Task Failed_authentications_are_limited_per_address_and_beyond_the_limit_only_remembered_tokens_pass()
    {
        await using var server = await RunningServer.StartAsync(adjust: s => s with { FailedAuthenticationsPerMinutePerAddress = 3 });
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/api/v1/jobs")).StatusCode);
        using var forger = server.ClientWith("forged");
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await forger.GetAsync("/api/v1/jobs")).StatusCode);
        using (var refused = await forger.GetAsync("/api/v1/jobs"))
            AssertTooManyRequests(refused);
        // From the barred address, a token this replica knows already (the admin's, used above to start)
        // still works: it costs no database read. One it would have to look up waits, whatever it is.
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/api/v1/jobs")).StatusCode);
        using var fresh = server.ClientWith(await server.MintAsync("member", "a"));
        using (var refused = await fresh.GetAsync("/api/v1/jobs"))
            AssertTooManyRequests(refused);
        Assert.Equal(HttpStatusCode.OK, (await server.ClientWith(null).GetAsync("/healthz")).StatusCode);

        var metrics = await server.ClientWith(null).GetStringAsync("/metrics");
        Assert.Contains("gpufleet_refused_requests_total{status=\"401\"} 3", metrics);
        Assert.Contains("gpufleet_refused_requests_total{status=\"429\"} 2", metrics);
    }

    [Fact]
    public async Task Rate_limited_answers_are_counted_in_the_metrics()
    {
        await using var server = await RunningServer.StartAsync(requestsPerMinute: 2);
        for (var i = 0; i < 5; i++)
            await server.Client.GetAsync("/api/v1/jobs");
        var metrics = await server.ClientWith(null).GetStringAsync("/metrics");
        Assert.Contains("gpufleet_refused_requests_total{status=\"429\"} 3", metrics);
    }

    [Fact]
    public async Task The_bearer_scheme_is_case_insensitive_and_extra_spaces_are_tolerated()
    {
        await using var server = await RunningServer.StartAsync();
        foreach (var header in new[] { $"bearer {RunningServer.AdminToken}", $"BEARER   {RunningServer.AdminToken}  ", $"  Bearer {RunningServer.AdminToken}" })
            Assert.Equal(HttpStatusCode.OK, await GetWithAuthorization(server, header));
        foreach (var header in new[] { "Bearer", "Bearer  ", $"Basic {RunningServer.AdminToken}", $"Bearer{RunningServer.AdminToken}", $"Bearer {RunningServer.AdminToken} x" })
            Assert.Equal(HttpStatusCode.Unauthorized, await GetWithAuthorization(server, header));
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_gets_413_from_every_endpoint_that_reads_a_body_and_logs_no_error()
    {
        await using var server = await RunningServer.StartAsync();
        var huge = "{\"name\":\"" + new string('x', 100 * 1024) + "\"}";
        foreach (var path in new[] { "/api/v1/jobs", "/api/v1/jobs/batch", "/api/v1/tokens" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
            request.Headers.TransferEncodingChunked = true;
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Empty(server.Errors.Entries);
    }

    [Fact]
    public async Task An_unknown_token_is_remembered_briefly_and_the_memory_of_misses_is_bounded()
    {
        var db = RunningServer.NewDatabase(Backend.Sqlite);
        var clock = new ManualClock(DateTimeOffset.Parse("2026-11-25T00:00:00Z"));
        using var here = new JobStore(db);
        using var elsewhere = new JobStore(db);
        var replica = new TokenStore(here, clock);
        Assert.Null(await replica.FindAsync("gf_minted-later"));
        // Minted on another replica after the miss: this replica answers from its memory, without reading...
        new TokenStore(elsewhere, clock).EnsureAdmin("gf_minted-later", clock.GetUtcNow());
        Assert.Null(await replica.FindAsync("gf_minted-later"));
        // ...until the miss is forgotten.
        clock.Advance(TokenStore.ForgetMissesAfter);
        Assert.NotNull(await replica.FindAsync("gf_minted-later"));

        for (var i = 0; i < TokenStore.MaxRememberedMisses * 2 + 7; i++)
            Assert.Null(await replica.FindAsync($"gf_random-{i}"));
        Assert.InRange(replica.RememberedMisses, 1, TokenStore.MaxRememberedMisses);
    }

    private static void AssertTooManyRequests(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
    }

    private static async Task<HttpStatusCode> AnonymousGetFrom(RunningServer server, string forwardedFor)
    {
        using var client = server.ClientWith(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> GetWithAuthorization(RunningServer server, string authorization)
    {
        using var client = server.ClientWith(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/jobs");
        Assert.True(request.Headers.TryAddWithoutValidation("Authorization", authorization));
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
