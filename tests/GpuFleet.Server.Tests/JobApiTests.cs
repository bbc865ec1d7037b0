using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

[Trait("Category", "Server")]
public abstract class JobApiTests(Backend backend)
{
    [Fact]
    public async Task A_submitted_job_is_stored_placed_run_and_finished_with_its_history()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var created = await server.PostJobAsync(new { name = "train", tenant = "a", gpus = 4, timeLimitSeconds = 3600, runtimeSeconds = 600, command = "python train.py" });
        var id = created.GetProperty("id").GetInt64();
        Assert.Equal("pending", created.GetProperty("state").GetString());

        server.Scheduler.Tick();
        var running = await server.GetJobAsync(id);
        Assert.Equal("running", running.GetProperty("state").GetString());
        // The placement names the node and its GPUs; the JSON lists each node with the GPUs held on it.
        var node = Assert.Single(running.GetProperty("nodes").EnumerateArray());
        var name = node.GetProperty("name").GetString();
        var gpus = node.GetProperty("gpus").EnumerateArray().Select(g => g.GetInt32()).ToList();
        Assert.Contains(name, new[] { "s-g-0001", "s-g-0002" });
        Assert.Equal(4, gpus.Count);
        Assert.Equal($"s/G: nodes {name} (GPUs {gpus[0]}-{gpus[3]})", running.GetProperty("placement").GetString());

        server.Clock.Advance(TimeSpan.FromSeconds(601));
        server.Scheduler.Tick();
        var done = await server.GetJobAsync(id);
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        Assert.Equal(["pending", "running", "succeeded"], done.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task A_pending_job_shows_why_it_waits_and_when_it_should_start()
    {
        await using var server = await RunningServer.StartAsync(backend);
        await server.PostJobAsync(new { tenant = "a", gpus = 16, timeLimitSeconds = 3600, runtimeSeconds = 3000 });
        server.Scheduler.Tick();
        var waiting = await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 600 });
        server.Scheduler.Tick();
        var job = await server.GetJobAsync(waiting.GetProperty("id").GetInt64());
        Assert.Equal("pending", job.GetProperty("state").GetString());
        Assert.False(string.IsNullOrWhiteSpace(job.GetProperty("pendingMessage").GetString()));
        Assert.Equal(server.Clock.GetUtcNow().AddSeconds(3600), job.GetProperty("estimatedStart").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_retried_submission_with_the_same_idempotency_key_returns_the_first_job()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var first = await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 }, "retry-1");
        var again = await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 }, "retry-1");
        Assert.Equal(first.GetProperty("id").GetInt64(), again.GetProperty("id").GetInt64());
        var other = await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 }, "retry-2");
        Assert.NotEqual(first.GetProperty("id").GetInt64(), other.GetProperty("id").GetInt64());
        var list = await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?tenant=a");
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_batch_is_stored_whole_or_refused_whole_with_indexed_fields()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using (var bad = await server.Client.PostAsJsonAsync("/api/v1/jobs/batch", new object[]
        {
            new { tenant = "a", gpus = 1, timeLimitSeconds = 60 },
            new { tenant = "a", gpus = 0, timeLimitSeconds = 60 },
        }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("\"[1].gpus\"", await bad.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        using var ok = await server.Client.PostAsJsonAsync("/api/v1/jobs/batch",
            Enumerable.Range(0, 20).Select(i => new { name = $"j{i}", tenant = i % 2 == 0 ? "a" : "b", gpus = 1, timeLimitSeconds = 60 }));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(20, (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
        server.Scheduler.Tick();
        var running = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?state=running")).GetProperty("items").GetArrayLength();
        Assert.Equal(16, running);
    }

    [Fact]
    public async Task Cancel_moves_a_job_once_and_a_finished_job_never_runs_again()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var id = (await server.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
        server.Scheduler.Tick();
        using (var r = await server.Client.DeleteAsync($"/api/v1/jobs/{id}"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await server.Client.DeleteAsync($"/api/v1/jobs/{id}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
        server.Clock.Advance(TimeSpan.FromHours(1));
        server.Scheduler.Tick();
        Assert.Equal("cancelled", (await server.GetJobAsync(id)).GetProperty("state").GetString());
        // Its GPUs are free again: a 16-GPU job fits the 16-GPU fleet.
        var big = (await server.PostJobAsync(new { tenant = "b", gpus = 16, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
        server.Scheduler.Tick();
        Assert.Equal("running", (await server.GetJobAsync(big)).GetProperty("state").GetString());
        using var missing = await server.Client.DeleteAsync("/api/v1/jobs/999999");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var store = new GpuFleet.Server.Storage.JobStore(server.Database);
        Assert.Throws<InvalidOperationException>(() => store.Transition(id, JobState.Cancelled, JobState.Running, DateTimeOffset.UtcNow, null));
    }

    [Theory]
    [InlineData("{\"tenant\":\"a\",\"gpus\":", "body")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":\"eight\",\"timeLimitSeconds\":60}", "gpus")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":0,\"timeLimitSeconds\":60}", "gpus")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":-3,\"timeLimitSeconds\":60}", "gpus")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"models\":[\"H100\"]}", "models")]
    [InlineData("{\"tenant\":\"nobody\",\"gpus\":1,\"timeLimitSeconds\":60}", "tenant")]
    [InlineData("{\"tenant\":\"a'; DROP TABLE jobs; --\",\"gpus\":1,\"timeLimitSeconds\":60}", "tenant")]
    [InlineData("{\"gpus\":1,\"timeLimitSeconds\":60}", "tenant")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1}", "timeLimitSeconds")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"priorityClass\":\"urgent\"}", "priorityClass")]
    [InlineData("[1,2,3]", "body")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":\"8\",\"timeLimitSeconds\":60}", "gpus")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":4,\"timeLimitSeconds\":60,\"gpus\":999999}", "gpus")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":\"60\"}", "timeLimitSeconds")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"priority\":-2147483648}", "priority")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"priority\":1000001}", "priority")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"runtimeSeconds\":31536001}", "runtimeSeconds")]
    public async Task Bad_input_is_a_400_problem_naming_the_field_and_stores_nothing(string json, string field)
    {
        await using var server = await RunningServer.StartAsync(backend);
        using var response = await server.Client.PostAsync("/api/v1/jobs", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        if (field != "body") Assert.Contains($"\"{field}\"", text);
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Long_names_huge_bodies_and_script_strings_are_refused_or_kept_verbatim()
    {
        await using var server = await RunningServer.StartAsync(backend);
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/jobs", new { name = new string('x', 10_000), tenant = "a", gpus = 1, timeLimitSeconds = 60 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("\"name\"", await r.Content.ReadAsStringAsync());
        }
        using (var huge = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs")
        {
            Content = new StringContent("{\"name\":\"" + new string('y', 10 << 20) + "\"}", Encoding.UTF8, "application/json"),
        })
        {
            huge.Headers.ExpectContinue = true;
            using var r = await server.Client.SendAsync(huge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }
        const string script = "<script>alert('x')</script>'; DELETE FROM jobs; --";
        var job = await server.PostJobAsync(new { name = script, tenant = "a", gpus = 1, timeLimitSeconds = 60, command = script });
        var back = await server.GetJobAsync(job.GetProperty("id").GetInt64());
        Assert.Equal(script, back.GetProperty("name").GetString());
        Assert.Equal(script, back.GetProperty("command").GetString());
        Assert.Equal(1, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        using var unknown = await server.Client.GetAsync("/api/v1/jobs/424242");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var badState = await server.Client.GetAsync("/api/v1/jobs?state=sleeping");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
    }

    [Fact]
    public async Task A_restarted_server_takes_up_pending_jobs_and_requeues_running_ones()
    {
        string db;
        long running, pending;
        await using (var first = await RunningServer.StartAsync(backend))
        {
            db = first.Database;
            running = (await first.PostJobAsync(new { tenant = "a", gpus = 16, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
            first.Scheduler.Tick();
            pending = (await first.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 600 })).GetProperty("id").GetInt64();
            Assert.Equal("running", (await first.GetJobAsync(running)).GetProperty("state").GetString());
        }
        await using var second = await RunningServer.StartAsync(backend, db);
        second.Scheduler.Tick();
        var list = (await second.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items");
        Assert.Equal(2, list.GetArrayLength());
        var a = await second.GetJobAsync(running);
        var b = await second.GetJobAsync(pending);
        // Exactly one of them holds the 16 GPUs now; nothing is lost or duplicated.
        var states = new[] { a.GetProperty("state").GetString(), b.GetProperty("state").GetString() };
        Assert.Contains("running", states);
        Assert.Contains("pending", states);
        Assert.Contains(a.GetProperty("history").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("requeued"));
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class JobApiTestsOnSqlite() : JobApiTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class JobApiTestsOnPostgres() : JobApiTests(Backend.Postgres);
