using System.Net;
using System.Text.Json;
using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>
/// The slurmrestd client on answers recorded from a real slurmrestd (v0.0.38) and built from each newer
/// version's published schema (v0.0.39–v0.0.44), all holding the cluster state that squeue and sinfo
/// recorded at the same moment (<c>Recorded/slurmrestd/v0.0.38/squeue-states.out</c>, <c>sinfo-nodes.out</c>).
/// </summary>
[Trait("Category", "Unit")]
public sealed class SlurmRestClientTests
{
    public static TheoryData<string> Versions => new("v0.0.38", "v0.0.39", "v0.0.40", "v0.0.41", "v0.0.42", "v0.0.43", "v0.0.44");

    private static string Cli(string file) => File.ReadAllText(Path.Combine(FakeSlurmRest.Directory("v0.0.38"), file));

    private static string Row(SlurmJob j) =>
        $"{j.Id}|{j.RunId}|{j.Component}|{j.Name}|{j.State}|{j.Reason}|{j.ExitCode}|{j.Signal}|{j.Start?.ToUnixTimeSeconds()}|{j.End?.ToUnixTimeSeconds()}|{string.Join(',', j.Nodes)}|{j.GpusPerNode}";

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Jobs_read_as_squeue_reads_the_same_cluster(string version)
    {
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version));
        var rest = await client.JobsAsync(default);
        var cli = SlurmOutput.ParseQueue(Cli("squeue-states.out"));

        Assert.Equal(cli.Select(Row).Order(), rest.Select(Row).Order());
        Assert.Equal(version, client.Version);
        // What the rows hold: every way a job ends, a heterogeneous one, someone else's.
        var byId = rest.ToDictionary(j => j.Id);
        Assert.Equal(("FAILED", "NonZeroExitCode", 3, 0), (byId["2"].State, byId["2"].Reason, byId["2"].ExitCode, byId["2"].Signal));
        Assert.Equal(("FAILED", 0, 10), (byId["9"].State, byId["9"].ExitCode, byId["9"].Signal));
        Assert.Equal(("5", 1, "n07", 4), (byId["6"].RunId, byId["6"].Component, byId["6"].Nodes.Single(), byId["6"].GpusPerNode));
        Assert.Equal(["n02", "n03"], byId["3"].Nodes);
        Assert.Equal("train|big", byId["11"].Name);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Nodes_read_as_sinfo_reads_the_same_cluster(string version)
    {
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version));
        var rest = await client.NodesAsync(default);
        var cli = SlurmOutput.ParseNodes(Cli("sinfo-nodes.out"));

        // States compared as the executor reads them: sinfo names a drained node with jobs
        // allocated+drain where slurmctld says mixed+drain.
        static string Row(SlurmNode n) => $"{n.Name}|{n.Gpus}|{n.Model}|{n.GpusUsed}|{SlurmExecutor.StateOf(n.State)}";
        Assert.Equal(cli.Select(Row), rest.Select(Row));
        var states = rest.ToDictionary(n => n.Name, n => n.State);
        Assert.Equal(("idle+drain", "mixed+drain", "down", "mixed"), (states["n05"], states["n12"], states["n13"], states["n04"]));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task A_partition_limits_jobs_and_nodes_to_it(string version)
    {
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version), new SlurmExecutorOptions(Partition: "other"));
        Assert.Empty(await client.JobsAsync(default));
        Assert.Empty(await client.NodesAsync(default));
    }

    [Fact]
    public async Task The_highest_version_offered_that_gpufleet_speaks_is_used()
    {
        // A Slurm 24.11 slurmrestd: v0.0.40 to v0.0.42, and a newer one GpuFleet does not know.
        var spec = Spec(["v0.0.40", "v0.0.41", "v0.0.42"], ["/slurm/v0.0.45/jobs", "/slurmdb/v0.0.42/jobs"]);
        var fake = FakeSlurmRest.Cluster("v0.0.42", r => r.Path == "/openapi/v3" ? FakeSlurmRest.Json(HttpStatusCode.OK, spec) : null);
        using var client = FakeSlurmRest.Client(fake);
        await client.NodesAsync(default);
        await client.JobsAsync(default);

        Assert.Equal("v0.0.42", client.Version);
        Assert.Single(fake.To("GET", "/openapi/v3"));
        Assert.Equal(["/slurm/v0.0.42/nodes", "/slurm/v0.0.42/jobs"], fake.Requests.Skip(1).Select(r => r.Path));
    }

    [Fact]
    public async Task A_server_without_openapi_v3_is_asked_for_openapi()
    {
        var fake = FakeSlurmRest.Cluster("v0.0.39", r => r.Path switch
        {
            "/openapi/v3" => new HttpResponseMessage(HttpStatusCode.NotFound),
            "/openapi" => FakeSlurmRest.Recorded("v0.0.39", "openapi-v3.http"),
            _ => null,
        });
        using var client = FakeSlurmRest.Client(fake);
        await client.JobsAsync(default);
        Assert.Equal("v0.0.39", client.Version);
    }

    [Fact]
    public async Task A_server_that_offers_no_version_gpufleet_speaks_is_unreachable_and_says_what_it_offers()
    {
        var spec = Spec(["v0.0.36", "v0.0.37"], []);
        using var client = FakeSlurmRest.Client(new FakeSlurmRest(_ => FakeSlurmRest.Json(HttpStatusCode.OK, spec)));
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => client.JobsAsync(default));
        Assert.Contains("offers v0.0.36, v0.0.37; GpuFleet speaks v0.0.38 to v0.0.44", e.Message);
    }

    [Fact]
    public void The_real_v0_0_38_specification_offers_v0_0_38_without_accounting()
    {
        var spec = JsonSerializer.Deserialize<JsonElement>(FakeSlurmRest.RecordedBody("v0.0.38", "openapi-v3.http"));
        var (slurm, slurmdb) = SlurmRestVersions.Offered(spec);
        Assert.Equal([38], slurm);
        Assert.Empty(slurmdb);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task A_submission_is_written_in_the_versions_schema_and_its_job_id_read(string version)
    {
        var fake = FakeSlurmRest.Cluster(version);
        await using var executor = new SlurmExecutor(new SlurmExecutorOptions(Partition: "gpu", OutputDirectory: "/shared/logs"), RestClient(fake), new FixedClock(DateTimeOffset.UnixEpoch));
        await executor.LaunchAsync(new ExecutorLaunch(917, "train", "tenant-a", "sleep 1", 90,
            [new NodeGpus("n06", [.. Enumerable.Range(0, 8)]), new NodeGpus("n07", [0, 1, 2, 3]), new NodeGpus("n08", [.. Enumerable.Range(0, 8)])]), default);

        var post = fake.To("POST", "/job/submit").Single();
        // 22.05 refuses a charset in it (recorded: submit-charset.http).
        Assert.Equal("application/json", post.ContentType);
        var body = JsonSerializer.Deserialize<JsonElement>(post.Body!);
        SubmissionSchema.Check(version, body);
        Assert.Equal("#!/bin/sh\ntrap : USR1\nsleep 1\n", body.GetProperty("script").GetString());
        var jobs = body.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(2, jobs.Count);
        Assert.All(jobs, j => Assert.Equal(("gpufleet-917", "tenant-a", "gpu", "/shared/logs/gpufleet-917.out", "/shared/logs"),
            (j.GetProperty("name").GetString(), j.GetProperty("comment").GetString(), j.GetProperty("partition").GetString(),
             j.GetProperty("standard_output").GetString(), j.GetProperty("current_working_directory").GetString())));
        var (first, second) = (jobs[0], jobs[1]);
        if (version == "v0.0.38")
        {
            Assert.Equal(("n[06,08]", "[2,2]", "gpu:8", 2L), (first.GetProperty("nodelist").GetString(), first.GetProperty("nodes").GetRawText(), first.GetProperty("gres").GetString(), first.GetProperty("time_limit").GetInt64()));
            Assert.Equal(("n07", "gpu:4"), (second.GetProperty("nodelist").GetString(), second.GetProperty("gres").GetString()));
            // requeue: false would switch requeueing on in 22.05 (any value sets sbatch's --requeue).
            Assert.True(first.GetProperty("no_requeue").GetBoolean());
            Assert.False(first.TryGetProperty("requeue", out _));
            Assert.Equal("append", first.GetProperty("open_mode").GetString());
            Assert.Equal(JsonValueKind.Object, first.GetProperty("environment").ValueKind);
        }
        else
        {
            var gres = version == "v0.0.39" ? "gres:gpu:" : "gres/gpu:";
            Assert.Equal(("[\"n06\",\"n08\"]", 2, gres + "8"), (first.GetProperty("required_nodes").GetRawText(), first.GetProperty("minimum_nodes").GetInt32(), first.GetProperty("tres_per_node").GetString()));
            Assert.Equal(("[\"n07\"]", gres + "4"), (second.GetProperty("required_nodes").GetRawText(), second.GetProperty("tres_per_node").GetString()));
            Assert.Equal("""{"set":true,"infinite":false,"number":2}""", first.GetProperty("time_limit").GetRawText());
            Assert.False(first.GetProperty("requeue").GetBoolean());
            Assert.Equal("[\"APPEND\"]", first.GetProperty("open_mode").GetRawText());
            Assert.Equal(JsonValueKind.Array, first.GetProperty("environment").ValueKind);
        }
        // The id of the accepted job is tracked: a cancel goes to it without looking it up.
        await executor.CancelAsync(917, default);
        Assert.Equal($"/slurm/{version}/job/4", fake.To("DELETE", "").Single().Path);
    }

    [Fact]
    public async Task A_heterogeneous_submission_answered_by_the_real_v0_0_38_gives_the_leaders_id()
    {
        var fake = FakeSlurmRest.Cluster("v0.0.38", r => r.Method == "POST" ? FakeSlurmRest.Recorded("v0.0.38", "submit-hetjob.http") : null);
        using var client = FakeSlurmRest.Client(fake);
        var id = await client.SubmitAsync(new SlurmSubmission("gpufleet-907", "tenant-a", null, 5, [new(["n06"], 8), new(["n07"], 4)], "/dev/null", "sleep 1"), default);
        Assert.Equal("5", id);
    }

    [Theory]
    [InlineData("v0.0.38", "submit-invalid-node.http", typeof(ExecutorRejectedException), "Invalid node name specified")]
    [InlineData("v0.0.38", "submit-too-many-gpus.http", typeof(ExecutorRejectedException), "Requested node configuration is not available")]
    [InlineData("v0.0.38", "submit-unknown-key.http", typeof(ExecutorRejectedException), "Unknown key \"bogus\"")]
    [InlineData("v0.0.38", "submit-unreachable.http", typeof(ExecutorUnreachableException), "Unable to contact slurm controller")]
    [InlineData("v0.0.38", "jobs-bad-token.http", typeof(ExecutorUnreachableException), "Unspecified error")]
    [InlineData("v0.0.38", "jobs-unauthorized.http", typeof(ExecutorUnreachableException), "HTTP 401")]
    [InlineData("v0.0.39", "submit-invalid-node.http", typeof(ExecutorRejectedException), "Invalid node name specified")]
    [InlineData("v0.0.41", "submit-invalid-node.http", typeof(ExecutorRejectedException), "Invalid node name specified")]
    [InlineData("v0.0.44", "submit-invalid-node.http", typeof(ExecutorRejectedException), "Invalid node name specified")]
    [InlineData("v0.0.44", "jobs-unreachable.http", typeof(ExecutorUnreachableException), "Unable to contact slurm controller")]
    public async Task A_refused_submission_is_rejected_in_slurms_words_and_a_controller_that_cannot_be_reached_is_unreachable(
        string version, string recorded, Type expected, string message)
    {
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Method == "POST" ? FakeSlurmRest.Recorded(version, recorded) : null));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.SubmitAsync(
            new SlurmSubmission("gpufleet-912", "tenant-a", null, 1, [new(["n99"], 1)], "/dev/null", "true"), default));
        Assert.IsType(expected, e);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("v0.0.38", "jobs-unreachable.http", "Unspecified error")]
    [InlineData("v0.0.38", "jobs-bad-token.http", "Unspecified error")]
    [InlineData("v0.0.38", "jobs-unauthorized.http", "HTTP 401")]
    [InlineData("v0.0.40", "jobs-unreachable.http", "Unable to contact slurm controller (connect failure)")]
    public async Task A_query_that_fails_leaves_the_cluster_unreachable(string version, string recorded, string message)
    {
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Path.EndsWith("/jobs", StringComparison.Ordinal) ? FakeSlurmRest.Recorded(version, recorded) : null));
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => client.JobsAsync(default));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Each_versions_errors_map_the_same_way(string version)
    {
        using var refused = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Method == "POST" ? FakeSlurmRest.Recorded(version, "submit-invalid-node.http") : null));
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => refused.SubmitAsync(
            new SlurmSubmission("gpufleet-912", "tenant-a", null, 1, [new(["n99"], 1)], "/dev/null", "true"), default));
        Assert.Contains("Invalid node name specified", e.Message);
        using var down = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Path.EndsWith("/jobs", StringComparison.Ordinal) ? FakeSlurmRest.Recorded(version, "jobs-unreachable.http") : null));
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => down.JobsAsync(default));
        foreach (var recorded in (string[])["delete-unknown-job.http", "delete-signal-pending.http"])
        {
            using var notRunning = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Method == "DELETE" ? FakeSlurmRest.Recorded(version, recorded) : null));
            await notRunning.SignalAsync(["7"], "USR1", default);
        }
    }

    [Fact]
    public async Task Nothing_listening_is_unreachable()
    {
        using var client = new SlurmRestClient(new SlurmExecutorOptions(), new SlurmRestOptions(new Uri($"http://127.0.0.1:{TestFiles.FreePort()}"), "root", "t"));
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => client.NodesAsync(default));
        Assert.Contains("slurmrestd at http://127.0.0.1:", e.Message);
    }

    [Fact]
    public async Task An_answer_that_does_not_come_in_time_is_unreachable()
    {
        var fake = new FakeSlurmRest(_ =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(3));
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var client = FakeSlurmRest.Client(fake, rest: new SlurmRestOptions(new Uri("http://slurmrestd.test"), "root", "t") { TimeoutSeconds = 1 });
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => client.NodesAsync(default));
        Assert.Contains("did not answer", e.Message);
    }

    [Theory]
    [InlineData("v0.0.38", "", "?signal=USR1")]
    [InlineData("v0.0.39", "", "?signal=USR1")]
    [InlineData("v0.0.40", "?flags=FULL_JOB", "?signal=USR1&flags=FULL_JOB")]
    [InlineData("v0.0.44", "?flags=FULL_JOB", "?signal=USR1&flags=FULL_JOB")]
    public async Task Cancel_and_signal_reach_the_batch_script_and_every_process(string version, string cancelQuery, string signalQuery)
    {
        var fake = FakeSlurmRest.Cluster(version);
        using var client = FakeSlurmRest.Client(fake);
        await client.CancelAsync(["4"], default);
        await client.SignalAsync(["4", "5"], "USR1", default);
        Assert.Equal([($"/slurm/{version}/job/4", cancelQuery), ($"/slurm/{version}/job/4", signalQuery), ($"/slurm/{version}/job/5", signalQuery)],
            fake.To("DELETE", "").Select(r => (r.Path, r.Query)));
    }

    [Theory]
    [InlineData("v0.0.38", "delete-unknown-job.http")]
    [InlineData("v0.0.38", "delete-signal-pending.http")]
    [InlineData("v0.0.38", "delete-signal-finished.http")]
    [InlineData("v0.0.39", "delete-unknown-job.http")]
    [InlineData("v0.0.41", "delete-signal-pending.http")]
    [InlineData("v0.0.42", "delete-unknown-job.http")]
    [InlineData("v0.0.44", "delete-signal-pending.http")]
    public async Task A_signal_or_cancel_of_a_job_that_does_not_run_does_nothing(string version, string recorded)
    {
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Method == "DELETE" ? FakeSlurmRest.Recorded(version, recorded) : null));
        await client.SignalAsync(["7"], "USR1", default);
        await client.CancelAsync(["999999"], default);
    }

    [Theory]
    [InlineData("v0.0.38", false)]
    [InlineData("v0.0.42", true)]
    public async Task A_signal_slurm_refuses_is_rejected(string version, bool perJob)
    {
        const string refusal = "Access/permission denied";
        var answer = perJob
            ? FakeSlurmRest.Json(HttpStatusCode.OK, """{"status":[{"error":{"string":"Access/permission denied","code":2002,"message":"Access/permission denied"},"step_id":"7","job_id":{"set":true,"infinite":false,"number":7}}],"errors":[],"warnings":[]}""")
            : FakeSlurmRest.Json(HttpStatusCode.InternalServerError, """{"errors":[{"error":"Access/permission denied","error_number":2002,"source":"slurm_kill_job"}]}""");
        using var client = FakeSlurmRest.Client(FakeSlurmRest.Cluster(version, r => r.Method == "DELETE" ? answer : null));
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => client.SignalAsync(["7"], "TERM", default));
        Assert.Contains(refusal, e.Message);
    }

    [Theory]
    [InlineData("v0.0.40")]
    [InlineData("v0.0.42")]
    [InlineData("v0.0.44")]
    public async Task Where_the_controller_says_its_time_the_next_poll_asks_only_for_changes(string version)
    {
        var fake = FakeSlurmRest.Cluster(version, r => r.Query.StartsWith("?update_time=", StringComparison.Ordinal)
            ? FakeSlurmRest.Recorded(version, "jobs-not-modified.http")
            : null);
        using var client = FakeSlurmRest.Client(fake);
        var first = await client.JobsAsync(default);
        var second = await client.JobsAsync(default);
        Assert.Equal(["", "?update_time=1796209020"], fake.To("GET", "/jobs").Select(r => r.Query));
        Assert.Equal(15, first.Count);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task The_real_v0_0_38s_304_not_modified_is_read_but_v0_0_38_is_never_asked_from_a_time()
    {
        var fake = FakeSlurmRest.Cluster("v0.0.38");
        using var client = FakeSlurmRest.Client(fake);
        await client.JobsAsync(default);
        await client.JobsAsync(default);
        Assert.All(fake.To("GET", "/jobs"), r => Assert.Equal("", r.Query));
        Assert.Equal(HttpStatusCode.NotModified, FakeSlurmRest.Recorded("v0.0.38", "jobs-not-modified.http").StatusCode);
    }

    [Fact]
    public async Task A_rotated_token_is_read_again_from_its_file_when_slurmrestd_refuses_the_old_one()
    {
        var file = TestFiles.Temp("slurmrestd.token");
        await File.WriteAllTextAsync(file, "SLURM_JWT=old\n");
        var fake = FakeSlurmRest.Cluster("v0.0.38", r => r.Token == "new" ? null : FakeSlurmRest.Recorded("v0.0.38", "jobs-bad-token.http"));
        using var client = FakeSlurmRest.Client(fake, rest: new SlurmRestOptions(new Uri("http://slurmrestd.test"), "root", TokenFile: file));

        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => client.NodesAsync(default));
        await File.WriteAllTextAsync(file, "new\n");
        Assert.Equal(16, (await client.NodesAsync(default)).Count);
        Assert.Equal(16, (await client.NodesAsync(default)).Count);

        // Refused with the old token (the file unchanged: not asked again); then refused once more with it,
        // asked again with the new one from the changed file, and the new one kept.
        Assert.Equal(["old", "old", "new", "new", "new"], fake.Requests.Select(r => r.Token));
        Assert.All(fake.Requests, r => Assert.Equal("root", r.User));
    }

    [Fact]
    public void A_token_and_a_token_file_together_are_refused() =>
        Assert.Throws<ArgumentException>(() => new SlurmRestClient(new SlurmExecutorOptions(), new SlurmRestOptions(new Uri("http://x"), "root", "t", "/f")));

    [Fact]
    public async Task Without_slurmdb_in_the_specification_accounting_is_not_available_and_not_asked()
    {
        var fake = FakeSlurmRest.Cluster("v0.0.38");
        using var client = FakeSlurmRest.Client(fake);
        var accounting = await client.AccountingAsync(["2"], default);
        Assert.False(accounting.Available);
        Assert.Contains("serves no /slurmdb/ version GpuFleet speaks: the cluster keeps no accounting (slurmdbd)", accounting.Detail);
        Assert.Empty(fake.To("GET", "/slurmdb/v0.0.38/jobs"));
        // What the real 22.05 answers there: 404.
        Assert.Equal(HttpStatusCode.NotFound, FakeSlurmRest.Recorded("v0.0.38", "slurmdb-jobs.http").StatusCode);
    }

    [Theory]
    [InlineData("v0.0.38", 1)]
    [InlineData("v0.0.39", 1)]
    [InlineData("v0.0.40", 3)]
    [InlineData("v0.0.44", 3)]
    public async Task Accounting_gives_the_records_of_the_runs_asked(string version, int failedExitCode)
    {
        var spec = Spec([version], [$"/slurmdb/{version}/jobs"]);
        var fake = FakeSlurmRest.Cluster(version, r => r.Path == "/openapi/v3" ? FakeSlurmRest.Json(HttpStatusCode.OK, spec) : null);
        using var client = FakeSlurmRest.Client(fake);
        var accounting = await client.AccountingAsync(["2", "5", "9", "14"], default);

        Assert.True(accounting.Available);
        Assert.Equal($"/slurmdb/{version}/jobs", fake.To("GET", "/slurmdb/" + version + "/jobs").Single().Path);
        Assert.Equal("?skip_steps=true&step=2%2C5%2C9%2C14", fake.To("GET", "/slurmdb/" + version + "/jobs").Single().Query);
        var rows = accounting.Jobs.ToDictionary(j => j.Id);
        Assert.Equal(["14", "2", "5", "6", "9"], rows.Keys.Order());
        // v0.0.38 and v0.0.39 write every exit as SUCCESS/0: a FAILED job's code is not known there.
        Assert.Equal(("FAILED", failedExitCode, 0, "n01"), (rows["2"].State, rows["2"].ExitCode, rows["2"].Signal, rows["2"].Nodes.Single()));
        Assert.Equal(("FAILED", 10), (rows["9"].State, rows["9"].Signal));
        Assert.Equal(("CANCELLED", 15), (rows["14"].State, rows["14"].Signal));
        Assert.Equal(("5", 1, "n07"), (rows["6"].RunId, rows["6"].Component, rows["6"].Nodes.Single()));
        Assert.Equal(SlurmOutput.ParseQueue(Cli("squeue-states.out")).Single(j => j.Id == "2").End, rows["2"].End);
    }

    [Fact]
    public async Task Accounting_offered_in_another_version_is_read_in_that_versions_schema()
    {
        // The controller's plugin v0.0.40, accounting's v0.0.39 only.
        var spec = Spec(["v0.0.40"], ["/slurmdb/v0.0.39/jobs"]);
        var fake = FakeSlurmRest.Cluster("v0.0.40", r => r.Path switch
        {
            "/openapi/v3" => FakeSlurmRest.Json(HttpStatusCode.OK, spec),
            "/slurmdb/v0.0.39/jobs" => FakeSlurmRest.Recorded("v0.0.39", "slurmdb-jobs.http"),
            _ => null,
        });
        using var client = FakeSlurmRest.Client(fake);
        var accounting = await client.AccountingAsync(["9"], default);
        Assert.Equal(("9", "FAILED", 10), (accounting.Jobs.Single().Id, accounting.Jobs.Single().State, accounting.Jobs.Single().Signal));
    }

    private static SlurmRestClient RestClient(FakeSlurmRest fake) => FakeSlurmRest.Client(fake, new SlurmExecutorOptions(Partition: "gpu", OutputDirectory: "/shared/logs"));

    // A specification with the controller paths of each version and extra paths.
    private static string Spec(IEnumerable<string> versions, IEnumerable<string> extra) =>
        JsonSerializer.Serialize(new
        {
            openapi = "3.0.3",
            paths = versions.SelectMany(v => new[] { $"/slurm/{v}/jobs", $"/slurm/{v}/nodes", $"/slurm/{v}/job/submit" }).Concat(extra).ToDictionary(p => p, _ => new { }),
        });
}
