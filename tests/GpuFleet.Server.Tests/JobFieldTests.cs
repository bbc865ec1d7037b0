using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data;
using GpuFleet.Data.Traces;
using GpuFleet.Server.Api;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>
/// Every field of a native trace's jobs through the API, the store and the job view; the same rules as
/// the trace reader; jobs that can never run refused at submission; unknown fields refused by name;
/// type errors in the API's words.
/// </summary>
[Trait("Category", "Server")]
public abstract class JobFieldTests(Backend backend)
{
    /// <summary>Two sites of two 8-GPU nodes each.</summary>
    private static readonly Fleet TwoSites = new("two", [new GpuModel("G", 80, 700, 100, 1)],
        [new Site("s", "o", "r", 10, 1.2), new Site("t", "o", "r", 10, 1.2)],
        [new GpuPoolSpec("s", "G", 8, 1, 2, 0), new GpuPoolSpec("t", "G", 8, 1, 2, 0)],
        [new SiteLink("s", "t", 100)]);

    private Task<RunningServer> StartAsync(string? database = null, SchedulingPolicy? policy = null) =>
        RunningServer.StartAsync(backend, database, adjust: s => s with { Fleet = TwoSites, Scheduling = s.Scheduling with { Policy = policy ?? s.Policy } });

    private static async Task<JsonElement> ErrorsOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.GetProperty("errors").Clone();
    }

    private static void AssertFields(JsonElement job)
    {
        Assert.Equal("node", job.GetProperty("topology").GetString());
        Assert.Equal("t", job.GetProperty("site").GetString());
        Assert.Equal("s", job.GetProperty("dataSite").GetString());
        Assert.Equal(12.5, job.GetProperty("dataGb").GetDouble());
        Assert.Equal(600, job.GetProperty("checkpointSeconds").GetInt64());
        Assert.Equal("preemptible", job.GetProperty("priorityClass").GetString());
    }

    private static readonly object Full = new
    {
        tenant = "a", gpus = 4, timeLimitSeconds = 3600, topology = "node", site = "t", dataSite = "s", dataGb = 12.5, checkpointSeconds = 600,
        priorityClass = "preemptible",
    };

    [Fact]
    public async Task Every_trace_field_is_stored_shown_and_scheduled_from_single_and_batch_submissions()
    {
        var db = RunningServer.NewDatabase(backend);
        long single, batched, plain;
        await using (var server = await StartAsync(db))
        {
            var created = await server.PostJobAsync(Full);
            AssertFields(created);
            single = created.GetProperty("id").GetInt64();
            using var batch = await server.Client.PostAsJsonAsync("/api/v1/jobs/batch", new[] { Full });
            Assert.Equal(HttpStatusCode.Created, batch.StatusCode);
            var fromBatch = (await batch.Content.ReadFromJsonAsync<JsonElement>())[0];
            AssertFields(fromBatch);
            batched = fromBatch.GetProperty("id").GetInt64();
            plain = (await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 })).GetProperty("id").GetInt64();
            // The leader schedules what was asked: site t, not the first site with room.
            server.Scheduler.Tick();
            var running = await server.GetJobAsync(single);
            Assert.Equal("running", running.GetProperty("state").GetString());
            Assert.StartsWith("t/G", running.GetProperty("placement").GetString());
        }
        // Read back from the database by another server.
        await using var second = await StartAsync(db);
        AssertFields(await second.GetJobAsync(single));
        AssertFields(await second.GetJobAsync(batched));
        var listed = (await second.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").EnumerateArray().ToList();
        AssertFields(listed.Single(j => j.GetProperty("id").GetInt64() == single));
        // A job that asked for none of them shows the defaults.
        var defaults = await second.GetJobAsync(plain);
        Assert.Equal("site", defaults.GetProperty("topology").GetString());
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("site").ValueKind);
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("dataSite").ValueKind);
        Assert.Equal(0, defaults.GetProperty("dataGb").GetDouble());
        Assert.Equal(0, defaults.GetProperty("checkpointSeconds").GetInt64());
    }

    [Fact]
    public async Task Jobs_stored_before_the_fields_existed_get_the_defaults_after_the_migration()
    {
        var db = RunningServer.NewDatabase(backend);
        var dialect = StoreDialect.For(db);
        // The schema as it was before the migration that added the fields.
        SchemaBefore.Create(db, "ADD COLUMN topology", c => JobStore.Exec(c, null, """
            INSERT INTO jobs (name, tenant, gpus, models, time_limit_seconds, priority, state, submitted_at)
            VALUES ('old', 'a', 2, 'G', 60, 0, 'Pending', 0);
            """));
        using var store = new JobStore(db);
        Assert.Equal(dialect.Migrations.Count, store.SchemaVersion);
        var old = (await store.ListAsync(null, null, 0, 10)).Single();
        Assert.Equal(("old", GpuFleet.Core.Workloads.TopologyNeed.Site, null, null, 0.0, 0L),
            (old.Spec.Name, old.Spec.Topology, old.Spec.Site, old.Spec.DataSite, old.Spec.DataGb, old.Spec.CheckpointSeconds));
    }

    // Each field's bad value, the problem the API answers, and the native trace's column and cell for it
    // (null where the trace reader does not judge it: it has no fleet or tenant tree).
    [Theory]
    [InlineData("topology", "\"ring\"", "must be site, node, domain or anywhere, not 'ring'", "ring")]
    [InlineData("dataGb", "-1", "must be at least 0, not -1", "-1")]
    [InlineData("checkpointSeconds", "-5", "must be at least 0, not -5", "-5")]
    [InlineData("site", "\"mars\"", "unknown site 'mars' (the fleet has s, t)", null)]
    [InlineData("dataSite", "\"mars\"", "unknown site 'mars' (the fleet has s, t)", null)]
    [InlineData("site", "\"s\\u0000\"", "must not contain control characters (found U+0000)", null)]
    [InlineData("topology", "\"\\u001b[2J\"", "must not contain control characters (found U+001B)", null)]
    [InlineData("checkpointSeconds", "1.5", "must be a whole number of seconds, not 1.5", "1.5")]
    [InlineData("dataGb", "\"5\"", "must be a number (a JSON number, not a string)", null)]
    [InlineData("dataGb", "1e400", "must be a finite number", null)]
    [InlineData("dataGb", "1e300", "must be at most 1,000,000,000 (an exabyte), not 1E+300", "1e300")]
    public async Task A_bad_trace_field_is_a_400_naming_it_in_the_trace_readers_words(string field, string value, string problem, string? cell)
    {
        await using var server = await StartAsync();
        var json = $"{{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"{field}\":{value}}}";
        using (var r = await server.PostRawAsync("/api/v1/jobs", json))
            Assert.Equal([problem], (await ErrorsOf(r)).GetProperty(field).EnumerateArray().Select(e => e.GetString()));
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", $"[{{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60}},{json}]"))
            Assert.Equal([problem], (await ErrorsOf(r)).GetProperty($"[1].{field}").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        if (cell is null) return;
        // The native trace reader says the same of the same value.
        var trace = Path.Combine(Path.GetTempPath(), $"gpufleet-fields-{Guid.NewGuid():N}.csv");
        var row = NativeTrace.FullHeader.Split(',').Select(c => c switch
        {
            "id" => "1", "submitSeconds" => "0", "tenant" => "a", "gpus" => "1", "models" => "", "timeLimitSeconds" or "runtimeSeconds" => "60",
            "priority" => "0", _ => "",
        }).ToArray();
        row[Array.IndexOf(NativeTrace.FullHeader.Split(','), field)] = cell;
        File.WriteAllLines(trace, [NativeTrace.FullHeader, string.Join(',', row)]);
        var error = Assert.Throws<DataFileException>(() => NativeTrace.Read(trace));
        Assert.EndsWith($"{field}: {problem}", error.Message);
        File.Delete(trace);
    }

    [Fact]
    public async Task A_field_the_request_does_not_have_is_a_400_naming_it()
    {
        await using var server = await StartAsync();
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"timeLimitSecond\":7200}"))
            Assert.StartsWith("is not a field of this request (its fields: name, tenant, gpus,", (await ErrorsOf(r)).GetProperty("timeLimitSecond")[0].GetString());
        var good = "{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60}";
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", $"[{good},{good},{good},{{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSecond\":60}}]"))
            Assert.Equal(["[3].timeLimitSecond"], (await ErrorsOf(r)).EnumerateObject().Select(e => e.Name));
        // A name that cannot be shown is not echoed: the object holding it is named.
        using (var r = await server.PostRawAsync("/api/v1/jobs", "{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"x\\u001by\":1}"))
            Assert.Equal(["body"], (await ErrorsOf(r)).EnumerateObject().Select(e => e.Name));
        using (var r = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant = "a", expires = "never" }))
            Assert.Equal(["expires"], (await ErrorsOf(r)).EnumerateObject().Select(e => e.Name));
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        Assert.Single(await server.Client.GetFromJsonAsync<JsonElement[]>("/api/v1/tokens") ?? []);
    }

    [Theory]
    [InlineData("{\"tenant\":\"a\",\"gpus\":9,\"timeLimitSeconds\":60,\"topology\":\"node\"}", null, "9 GPUs can never fit within one node of this fleet (largest: 8 GPUs of an acceptable model)")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":17,\"timeLimitSeconds\":60}", null, "17 GPUs can never fit within one site of this fleet (largest: 16 GPUs of an acceptable model)")]
    [InlineData("{\"tenant\":\"a\",\"gpus\":9,\"timeLimitSeconds\":60}", "static", "9 GPUs exceed tenant 'a''s whole guarantee of an acceptable model; under 'static' it can never run")]
    public async Task A_job_that_can_never_run_is_refused_at_submission_with_the_cores_reason(string json, string? policy, string problem)
    {
        await using var server = await StartAsync(policy: policy is null ? null : SchedulingPolicy.Find(policy));
        using (var r = await server.PostRawAsync("/api/v1/jobs", json))
            Assert.Equal([problem], (await ErrorsOf(r)).GetProperty("gpus").EnumerateArray().Select(e => e.GetString()));
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", $"[{{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60}},{json}]"))
            Assert.Equal(["[1].gpus"], (await ErrorsOf(r)).EnumerateObject().Select(e => e.Name));
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        // What can run still can: the same job spread as far as it may, or within the guarantee.
        await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 60, topology = "anywhere" });
    }

    // Wrong JSON kinds for every field of every request body: the answer names the field and says what
    // it must be in the API's words, never a .NET type's name.
    [Fact]
    public async Task A_value_of_the_wrong_type_is_named_in_the_apis_words_for_every_field()
    {
        await using var server = await StartAsync();
        var numbers = new Dictionary<string, string>
        {
            ["gpus"] = "must be a whole number", ["timeLimitSeconds"] = "must be a whole number", ["priority"] = "must be a whole number",
            ["runtimeSeconds"] = "must be a whole number", ["checkpointSeconds"] = "must be a number", ["dataGb"] = "must be a number",
        };
        string[] texts = ["name", "tenant", "priorityClass", "command", "topology", "site", "dataSite"];
        var cases = new List<(string Path, string Body, string Field, string Problem)>();
        foreach (var (field, problem) in numbers)
            foreach (var wrong in new[] { "\"high\"", "true", "[1]", "{}" })
                cases.Add(("/api/v1/jobs", Job(field, wrong), field, problem));
        foreach (var field in texts)
            foreach (var wrong in new[] { "1", "false", "[\"x\"]", "{}" })
                cases.Add(("/api/v1/jobs", Job(field, wrong), field, "must be a string"));
        foreach (var wrong in new[] { "\"G\"", "1", "true", "{}" }) cases.Add(("/api/v1/jobs", Job("models", wrong), "models", "must be a"));
        foreach (var wrong in new[] { "[1]", "[true]", "[[\"G\"]]", "[{}]" }) cases.Add(("/api/v1/jobs", Job("models", wrong), "models", "must be a list of strings"));
        foreach (var field in new[] { "role", "tenant" })
            foreach (var wrong in new[] { "1", "true", "[]", "{}" })
                cases.Add(("/api/v1/tokens", $"{{\"role\":\"member\",\"tenant\":\"a\",\"{field}\":{wrong}}}".Replace($"\"{field}\":\"{(field == "role" ? "member" : "a")}\",", "", StringComparison.Ordinal), field, "must be a string"));
        foreach (var (field, problem) in numbers)
            cases.Add(("/api/v1/jobs/batch", $"[{Job("gpus", "1")},{Job(field, "\"high\"")}]", $"[1].{field}", problem));
        foreach (var wrong in new[] { "1", "\"x\"", "true", "[1]" })
            cases.Add(("/api/v1/jobs/batch", $"[{wrong}]", "[0]", "must be a JSON object"));
        foreach (var wrong in new[] { "1", "\"x\"", "true", "{}" })
        {
            cases.Add(("/api/v1/jobs/batch", wrong, "body", "must be a JSON array"));
            if (wrong != "{}") cases.Add(("/api/v1/jobs", wrong, "body", "must be a JSON object"));
        }
        foreach (var (path, body, field, problem) in cases)
        {
            using var r = await server.PostRawAsync(path, body);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{path} {body} → {(int)r.StatusCode} {text}");
            var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out var list), $"{path} {body} → {text}");
            Assert.True(list[0].GetString()!.StartsWith(problem, StringComparison.Ordinal), $"{path} {body} → {text}");
            Assert.DoesNotContain("System.", text);
            Assert.DoesNotContain("GpuFleet.", text);
        }

        static string Job(string field, string value)
        {
            var job = new Dictionary<string, string> { ["tenant"] = "\"a\"", ["gpus"] = "1", ["timeLimitSeconds"] = "60", [field] = value };
            return "{" + string.Join(',', job.Select(p => $"\"{p.Key}\":{p.Value}")) + "}";
        }
    }

    [Fact]
    public void The_checking_scheduler_is_rebuilt_past_its_bound_and_answers_alike_after()
    {
        var settings = new ServerSettings { Fleet = TwoSites, Scheduling = new SchedulerOptions { Policy = SchedulingPolicy.FairShare }, Database = "unused" };
        var checker = new FitChecker(settings);
        var tooBig = new GpuFleet.Server.Jobs.NewJob("j", "t0", 9, [], 60, 0, null, null, null, GpuFleet.Core.Workloads.TopologyNeed.Node);
        Assert.Equal(("gpus", "9 GPUs can never fit within one node of this fleet (largest: 8 GPUs of an acceptable model)"), checker.Problem(tooBig));
        // Every distinct shape is a class of the core's: shapes without end would grow it without end.
        // With the 9-GPU one above, MaxShapes shapes are kept; one more rebuilds.
        for (var i = 1; i < FitChecker.MaxShapes; i++) checker.Problem(tooBig with { Gpus = 1_000 + i });
        Assert.Equal(0, checker.Rebuilds);
        checker.Problem(tooBig with { Gpus = 1 });
        Assert.Equal(1, checker.Rebuilds);
        Assert.Equal(("gpus", "9 GPUs can never fit within one node of this fleet (largest: 8 GPUs of an acceptable model)"), checker.Problem(tooBig));
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class JobFieldTestsOnSqlite() : JobFieldTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class JobFieldTestsOnPostgres() : JobFieldTests(Backend.Postgres);
