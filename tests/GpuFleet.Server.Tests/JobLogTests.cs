using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

/// <summary><c>GET /api/v1/jobs/{id}/log</c>: a job's output as its executor wrote it to the log directory.</summary>
[Trait("Category", "Server")]
public sealed class JobLogTests
{
    private static async Task<(RunningServer Server, string Logs)> StartAsync()
    {
        var logs = Path.Combine(Path.GetTempPath(), "gpufleet-server-tests", Guid.NewGuid().ToString("N"), "logs");
        Directory.CreateDirectory(logs);
        return (await RunningServer.StartAsync(adjust: s => s with { LogDirectory = logs }), logs);
    }

    private static async Task<long> SubmitAsync(HttpClient client)
    {
        using var r = await client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "a", gpus = 1, timeLimitSeconds = 60 });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    [Fact]
    public async Task A_job_log_is_answered_as_text_to_those_who_see_the_job_and_as_a_missing_job_to_other_tenants()
    {
        var (server, logs) = await StartAsync();
        await using var running = server;
        using var a = server.ClientWith(await server.MintAsync("member", "a"));
        using var viewer = server.ClientWith(await server.MintAsync("viewer", "a"));
        using var b = server.ClientWith(await server.MintAsync("member", "b"));
        var id = await SubmitAsync(a);
        var text = "step 1 loss 2.31\nstep 2 loss 1.97 — ok\n";
        File.WriteAllText(Path.Combine(logs, $"{id}.log"), text);

        foreach (var reader in new[] { a, viewer, server.Client })
        {
            using var r = await reader.GetAsync($"/api/v1/jobs/{id}/log");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("text/plain", r.Content.Headers.ContentType?.MediaType);
            Assert.Equal(text, Encoding.UTF8.GetString(await r.Content.ReadAsByteArrayAsync()));
        }
        // Another tenant's job log is answered exactly as the job itself: as if there were no such job.
        using var job = await b.GetAsync($"/api/v1/jobs/{id}");
        using var log = await b.GetAsync($"/api/v1/jobs/{id}/log");
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (job.StatusCode, log.StatusCode));
        Assert.Equal(Problem(await job.Content.ReadAsStringAsync()), Problem(await log.Content.ReadAsStringAsync()));
        using var none = await server.Client.GetAsync($"/api/v1/jobs/{id + 1000}/log");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal("job not found", Problem(await none.Content.ReadAsStringAsync()).Title);
    }

    [Fact]
    public async Task An_offset_in_bytes_gives_the_rest_of_the_log_so_that_a_client_can_follow_it()
    {
        var (server, logs) = await StartAsync();
        await using var running = server;
        var id = await SubmitAsync(server.Client);
        var path = Path.Combine(logs, $"{id}.log");
        // "é" is two bytes: offsets count bytes, not characters.
        File.WriteAllText(path, "é1\n");
        Assert.Equal("é1\n", await TextAsync(server, $"/api/v1/jobs/{id}/log?offset=0"));
        Assert.Equal("1\n", await TextAsync(server, $"/api/v1/jobs/{id}/log?offset=2"));
        Assert.Equal("", await TextAsync(server, $"/api/v1/jobs/{id}/log?offset=4"));
        Assert.Equal("", await TextAsync(server, $"/api/v1/jobs/{id}/log?offset=400"));
        File.AppendAllText(path, "line 2\n");
        Assert.Equal("line 2\n", await TextAsync(server, $"/api/v1/jobs/{id}/log?offset=4"));
        foreach (var bad in new[] { "-1", "x", "1.5", "%201", "99999999999999999999" })
        {
            using var r = await server.Client.GetAsync($"/api/v1/jobs/{id}/log?offset={bad}");
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.True(JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("offset", out _), bad);
        }
    }

    [Fact]
    public async Task A_job_without_a_log_or_a_server_without_a_log_directory_answers_404_with_a_problem()
    {
        var (server, _) = await StartAsync();
        await using (server)
        {
            var id = await SubmitAsync(server.Client);
            using var r = await server.Client.GetAsync($"/api/v1/jobs/{id}/log");
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.Equal(("log not found", $"job {id} has no log"), Problem(await r.Content.ReadAsStringAsync()));
        }
        await using var without = await RunningServer.StartAsync();
        var other = await SubmitAsync(without.Client);
        using var answer = await without.Client.GetAsync($"/api/v1/jobs/{other}/log");
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Equal("log not found", Problem(await answer.Content.ReadAsStringAsync()).Title);
    }

    [Fact]
    public async Task A_named_installation_reads_its_own_log_files()
    {
        var logs = Path.Combine(Path.GetTempPath(), "gpufleet-server-tests", Guid.NewGuid().ToString("N"), "logs");
        Directory.CreateDirectory(logs);
        await using var server = await RunningServer.StartAsync(adjust: s => s with { LogDirectory = logs, Installation = "lab" });
        var id = await SubmitAsync(server.Client);
        // Another installation's log of the same job id, in the same directory, is not this one's.
        File.WriteAllText(Path.Combine(logs, $"{id}.log"), "the unnamed installation's job");
        using (var none = await server.Client.GetAsync($"/api/v1/jobs/{id}/log"))
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        File.WriteAllText(Path.Combine(logs, $"lab-{id}.log"), "lab's job");
        Assert.Equal("lab's job", await TextAsync(server, $"/api/v1/jobs/{id}/log"));
    }

    [Theory]
    [InlineData("secret")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.0")]
    [InlineData("0x1")]
    [InlineData("..%2Fsecret")]
    [InlineData("%2E%2E%2Fsecret")]
    [InlineData("1%00")]
    [InlineData("%201")]
    public async Task Nothing_but_a_plain_job_id_reaches_the_file_system(string id)
    {
        var (server, logs) = await StartAsync();
        await using var running = server;
        var job = await SubmitAsync(server.Client);
        // What a path made of the request would find.
        File.WriteAllText(Path.Combine(logs, "secret.log"), "secret");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(logs)!, "secret.log"), "secret");
        File.WriteAllText(Path.Combine(logs, $"{job}.log"), "one");
        using var r = await server.Client.GetAsync($"/api/v1/jobs/{id}/log");
        Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{id}: {r.StatusCode}");
        var body = await r.Content.ReadAsStringAsync();
        Assert.DoesNotContain("secret", body);
        Assert.DoesNotContain("one", body);
        // Kestrel itself refuses some (a NUL in the path) before any endpoint sees them; the endpoint's own 400 names the id.
        if (r.StatusCode == HttpStatusCode.BadRequest && body.Length > 0)
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty("id", out _), body);
        // The job's own id does reach it.
        Assert.Equal("one", await TextAsync(server, $"/api/v1/jobs/{job}/log"));
    }

    private static async Task<string> TextAsync(RunningServer server, string path)
    {
        using var r = await server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return Encoding.UTF8.GetString(await r.Content.ReadAsByteArrayAsync());
    }

    private static (string? Title, string? Detail) Problem(string json)
    {
        var p = JsonDocument.Parse(json).RootElement;
        return (p.GetProperty("title").GetString(), p.TryGetProperty("detail", out var d) ? d.GetString() : null);
    }
}
