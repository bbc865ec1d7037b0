using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;
using GpuFleet.Data;
using GpuFleet.Data.Traces;
using GpuFleet.Server.Dashboard;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;
using YamlDotNet.Serialization;

namespace GpuFleet.Server.Tests;

/// <summary>
/// A job's CPU cores and memory (per GPU, or for the whole job) and its slice of a GPU through the API, the
/// store, the job view and the core's job; refused with the trace reader's words; slices checked against
/// the fleet's MIG profiles.
/// </summary>
[Trait("Category", "Server")]
public abstract class JobResourceFieldTests(Backend backend)
{
    /// <summary>One site of two 8-GPU nodes whose model has two MIG profiles and may be time-shared.</summary>
    private static readonly Fleet Shared = new("shared",
        [new GpuModel("G", 80, 700, 100, 1)
        {
            Sharing = new GpuSharing(7, 8, [new MigProfile("1g.10gb", 1, 1, 10, [0, 1, 2, 3, 4, 5, 6]), new MigProfile("3g.40gb", 3, 4, 40, [0, 4])], true, 60),
        }],
        [new Site("s", "o", "r", 10, 1.2)],
        [new GpuPoolSpec("s", "G", 8, 1, 2, 0) { CpusPerNode = 112, MemoryGbPerNode = 2048 }]);

    /// <summary>The same without sharing.</summary>
    private static readonly Fleet Whole = new("whole", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);

    private Task<RunningServer> StartAsync(string? database = null, Fleet? fleet = null) =>
        RunningServer.StartAsync(backend, database, adjust: s => s with { Fleet = fleet ?? Shared });

    private static async Task<JsonElement> ErrorsOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("errors").Clone();
    }

    private static readonly object Mig = new { tenant = "a", gpus = 3, timeLimitSeconds = 600, cpusPerGpu = 4, memoryGbPerGpu = 60.5, slice = new { migProfile = "1g.10gb" } };
    private static readonly object Fraction = new { tenant = "a", gpus = 2, timeLimitSeconds = 600, cpus = 10, memoryGb = 101, slice = new { gpuFraction = 0.25, gpuMemoryGb = 20 } };

    private static void AssertMig(JsonElement job)
    {
        Assert.Equal((4.0, 60.5), (job.GetProperty("cpusPerGpu").GetDouble(), job.GetProperty("memoryGbPerGpu").GetDouble()));
        Assert.Equal("""{"migProfile":"1g.10gb"}""", job.GetProperty("slice").GetRawText());
    }

    // The per-job amounts are shown per GPU: 10 cores and 101 GB over 2 slices.
    private static void AssertFraction(JsonElement job)
    {
        Assert.Equal((5.0, 50.5), (job.GetProperty("cpusPerGpu").GetDouble(), job.GetProperty("memoryGbPerGpu").GetDouble()));
        Assert.Equal("""{"gpuFraction":0.25,"gpuMemoryGb":20}""", job.GetProperty("slice").GetRawText());
    }

    [Fact]
    public async Task Cpus_memory_and_slices_are_stored_shown_and_read_back_from_single_and_batch_submissions()
    {
        var db = RunningServer.NewDatabase(backend);
        long mig, fraction, batched, plain;
        await using (var server = await StartAsync(db))
        {
            var created = await server.PostJobAsync(Mig);
            AssertMig(created);
            mig = created.GetProperty("id").GetInt64();
            var shared = await server.PostJobAsync(Fraction);
            AssertFraction(shared);
            fraction = shared.GetProperty("id").GetInt64();
            using var batch = await server.Client.PostAsJsonAsync("/api/v1/jobs/batch", new[] { Fraction, Mig });
            Assert.Equal(HttpStatusCode.Created, batch.StatusCode);
            var fromBatch = await batch.Content.ReadFromJsonAsync<JsonElement>();
            AssertFraction(fromBatch[0]);
            AssertMig(fromBatch[1]);
            batched = fromBatch[1].GetProperty("id").GetInt64();
            plain = (await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 })).GetProperty("id").GetInt64();
        }
        // Read back from the database by another server.
        await using var second = await StartAsync(db);
        AssertMig(await second.GetJobAsync(mig));
        AssertMig(await second.GetJobAsync(batched));
        AssertFraction(await second.GetJobAsync(fraction));
        var listed = (await second.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").EnumerateArray().ToList();
        AssertFraction(listed.Single(j => j.GetProperty("id").GetInt64() == fraction));
        // A job that asked for none: whole GPUs, nothing per GPU.
        var defaults = await second.GetJobAsync(plain);
        Assert.Equal((0.0, 0.0), (defaults.GetProperty("cpusPerGpu").GetDouble(), defaults.GetProperty("memoryGbPerGpu").GetDouble()));
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("slice").ValueKind);
    }

    [Fact]
    public async Task The_store_gives_the_core_the_job_it_was_given()
    {
        using var store = new JobStore(RunningServer.NewDatabase(backend));
        var asked = new NewJob("j", "a", 3, ["G"], 600, 0, null, null, null, CpusPerGpu: 4, MemoryGbPerGpu: 60.5, Slice: new SliceRequest(null, 0.125, 7.5));
        var (stored, _) = await store.SubmitAsync(asked, null, DateTimeOffset.UnixEpoch);
        var back = (await store.ListAsync(null, null, 0, 10)).Single();
        Assert.Equal(asked with { Models = back.Spec.Models }, back.Spec);
        var spec = back.Spec.ToSpec(stored!.Id, 0);
        Assert.Equal((4.0, 60.5, new SliceRequest(null, 0.125, 7.5)), (spec.CpusPerGpu, spec.MemoryGbPerGpu, spec.Slice));
    }

    [Fact]
    public async Task Jobs_stored_before_cpus_memory_and_slices_existed_ask_for_whole_gpus_and_nothing_else()
    {
        var db = RunningServer.NewDatabase(backend);
        // The schema as it was before the migration that added these columns.
        SchemaBefore.Create(db, "cpus_per_gpu", c => JobStore.Exec(c, null, """
            INSERT INTO jobs (name, tenant, gpus, models, time_limit_seconds, priority, state, submitted_at, data_gb)
            VALUES ('old', 'a', 2, 'G', 60, 0, 'Pending', 0, 3.5);
            """));
        using var store = new JobStore(db);
        var old = (await store.ListAsync(null, null, 0, 10)).Single();
        Assert.Equal(("old", 3.5, 0.0, 0.0, (SliceRequest?)null), (old.Spec.Name, old.Spec.DataGb, old.Spec.CpusPerGpu, old.Spec.MemoryGbPerGpu, old.Spec.Slice));
    }

    // Each bad value, the problem under its field, and the native trace's column and cell for it (null where the
    // trace reader does not judge it: it has no fleet, and no per-job forms).
    [Theory]
    [InlineData("cpusPerGpu", "-1", "cpusPerGpu", "must be at least 0, not -1", "-1")]
    [InlineData("memoryGbPerGpu", "2e6", "memoryGbPerGpu", "must be at most 1,000,000, not 2000000", "2e6")]
    [InlineData("cpus", "-4", "cpus", "must be at least 0, not -4", null)]
    [InlineData("memoryGb", "1e300", "memoryGb", "must be at most 1,000,000, not 1E+300", null)]
    [InlineData("cpusPerGpu", "\"4\"", "cpusPerGpu", "must be a number (a JSON number, not a string)", null)]
    [InlineData("slice", "{\"gpuFraction\":1.5,\"gpuMemoryGb\":10}", "slice", "GPU fraction must be above 0 and below 1, not 1.5", "1.5:10")]
    [InlineData("slice", "{\"gpuFraction\":0.5,\"gpuMemoryGb\":0}", "slice", "GPU memory must be a finite number of GB above 0, not 0", "0.5:0")]
    [InlineData("slice", "{\"migProfile\":\"\"}", "slice", "MIG profile must not be empty", "mig:")]
    [InlineData("slice", "{\"migProfile\":\"1g 10gb\"}", "slice", "MIG profile must hold only letters, digits, '.', '+', '-' and '_', not '1g 10gb'", "mig:1g 10gb")]
    [InlineData("slice", "{}", "slice", "needs migProfile, or gpuFraction with gpuMemoryGb", null)]
    [InlineData("slice", "{\"gpuFraction\":0.5}", "slice", "needs migProfile, or gpuFraction with gpuMemoryGb", null)]
    [InlineData("slice", "{\"migProfile\":\"1g.10gb\",\"gpuFraction\":0.5}", "slice", "give migProfile, or gpuFraction with gpuMemoryGb, not both", null)]
    [InlineData("slice", "{\"migProfile\":\"9g.1tb\"}", "slice", "unknown MIG profile '9g.1tb' (the fleet has 1g.10gb (G), 3g.40gb (G))", null)]
    [InlineData("slice", "{\"gpuFraction\":0.5,\"gpuMemoryGb\":96}", "slice", "GPU memory of 96 GB is more than any shared model has (at most 80 GB)", null)]
    [InlineData("slice", "\"mig:1g.10gb\"", "slice", "must be a JSON object", null)]
    [InlineData("slice", "{\"gpuFraction\":\"half\",\"gpuMemoryGb\":10}", "slice.gpuFraction", "must be a number (a JSON number, not a string)", null)]
    [InlineData("slice", "{\"migProfile\":1}", "slice.migProfile", "must be a string", null)]
    [InlineData("slice", "{\"migProfile\":\"1g.10gb\",\"size\":1}", "slice.size", "is not a field of this request (its fields: migProfile, gpuFraction, gpuMemoryGb)", null)]
    public async Task A_bad_cpu_memory_or_slice_field_is_a_400_naming_it_in_the_trace_readers_words(string field, string value, string at, string problem, string? cell)
    {
        await using var server = await StartAsync();
        var json = $"{{\"tenant\":\"a\",\"gpus\":2,\"timeLimitSeconds\":60,\"{field}\":{value}}}";
        using (var r = await server.PostRawAsync("/api/v1/jobs", json))
            Assert.Equal([problem], (await ErrorsOf(r)).GetProperty(at).EnumerateArray().Select(e => e.GetString()));
        using (var r = await server.PostRawAsync("/api/v1/jobs/batch", $"[{{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60}},{json}]"))
            Assert.Equal([problem], (await ErrorsOf(r)).GetProperty($"[1].{at}").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("items").GetArrayLength());
        if (cell is null) return;
        // The native trace reader says the same of the same value.
        var trace = Path.Combine(Path.GetTempPath(), $"gpufleet-resources-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(trace, [$"{NativeTrace.Header},{field}", $"1,0,a,2,,site,60,60,0,{cell}"]);
        var error = Assert.Throws<DataFileException>(() => NativeTrace.Read(trace));
        Assert.EndsWith($"{field}: {problem}", error.Message);
        File.Delete(trace);
    }

    [Theory]
    [InlineData("\"cpus\":8,\"cpusPerGpu\":4", "cpus", "give cpus (for the whole job) or cpusPerGpu, not both")]
    [InlineData("\"memoryGb\":8,\"memoryGbPerGpu\":4", "memoryGb", "give memoryGb (for the whole job) or memoryGbPerGpu, not both")]
    public async Task A_resource_given_for_the_whole_job_and_per_gpu_is_refused(string fields, string at, string problem)
    {
        await using var server = await StartAsync();
        using var r = await server.PostRawAsync("/api/v1/jobs", $"{{\"tenant\":\"a\",\"gpus\":2,\"timeLimitSeconds\":60,{fields}}}");
        Assert.Equal([problem], (await ErrorsOf(r)).GetProperty(at).EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task A_slice_on_a_fleet_that_shares_no_gpu_is_refused()
    {
        await using var server = await StartAsync(fleet: Whole);
        using var r = await server.PostRawAsync("/api/v1/jobs", "{\"tenant\":\"a\",\"gpus\":1,\"timeLimitSeconds\":60,\"slice\":{\"migProfile\":\"1g.10gb\"}}");
        Assert.Equal(["the fleet has no GPU model that may be shared (no model has sharing: in the fleet file)"],
            (await ErrorsOf(r)).GetProperty("slice").EnumerateArray().Select(e => e.GetString()));
        // CPU and memory need no counting nodes: a request the fleet does not count never binds.
        await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60, cpusPerGpu = 8 });
    }

    [Fact]
    public void The_dashboards_command_line_and_job_file_carry_cpus_memory_and_the_slice()
    {
        var job = new NewJob("j", "a", 3, ["G"], 600, 0, null, null, null, CpusPerGpu: 4, MemoryGbPerGpu: 60.5, Slice: new SliceRequest("1g.10gb", 0, 0));
        Assert.Contains("--cpus-per-gpu 4 --memory-gb-per-gpu 60.5 --slice mig:1g.10gb", SubmitCommand.Of(job));
        var fields = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(SubmitCommand.JobFile(job));
        Assert.Equal(("4", "60.5"), (fields["cpusPerGpu"], fields["memoryGbPerGpu"]));
        Assert.Equal("1g.10gb", ((Dictionary<object, object>)fields["slice"])["migProfile"]);
        var shared = SubmitCommand.JobFile(job with { Slice = new SliceRequest(null, 0.25, 20) });
        var slice = (Dictionary<object, object>)new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(shared)["slice"];
        Assert.Equal(("0.25", "20"), (slice["gpuFraction"], slice["gpuMemoryGb"]));
        Assert.Contains("--slice 0.25:20", SubmitCommand.Of(job with { Slice = new SliceRequest(null, 0.25, 20) }));
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class JobResourceFieldTestsOnSqlite() : JobResourceFieldTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class JobResourceFieldTestsOnPostgres() : JobResourceFieldTests(Backend.Postgres);
