using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Tests.Shared;

namespace GpuFleet.Server.Tests;

/// <summary>
/// The live server placing jobs on a real Slurm (<see cref="TestSlurm"/>: 16 nodes × 8 GPUs through GRES)
/// through the Slurm executor: what GpuFleet places is what Slurm runs, ends carry their exit codes, a node
/// that fails sends its job elsewhere, GPUs that Slurm's own users hold are left alone, and a new leader
/// adopts what runs instead of launching it again. The fleet is nodes n11-n16 of that cluster, so that the
/// executor's own tests on n01-n10 may run at the same time.
/// </summary>
[Trait("Category", "Slurm")]
public sealed class SlurmSiteTests
{
    private static Fleet SlurmFleet() =>
        RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["slurmConf"] = TestSlurm.Conf }, new GpuPoolSpec("s", "G", 8, 1, 6, 0) { NodeNames = "n{11}" });

    private static Task<RunningServer> StartAsync(Fleet fleet, string? database = null) =>
        RunningServer.StartAsync(database: database ?? NewDatabase(), adjust: s => s with { Fleet = fleet });

    // Slurm lists finished jobs for minutes, by name: job ids (and so run names) no earlier test or run used.
    private static string NewDatabase()
    {
        var database = RunningServer.NewDatabase(Backend.Sqlite);
        using (new Storage.JobStore(database)) { }
        FreshJobIds.Start(database);
        return database;
    }

    private static async Task<JsonElement[]> JobsAsync(RunningServer server, IEnumerable<long> ids) =>
        [.. await Task.WhenAll(ids.Select(server.GetJobAsync))];

    private static bool Final(JsonElement job) => job.GetProperty("state").GetString() is "succeeded" or "failed" or "cancelled";

    // What a test started on Slurm goes when it ends, whatever its outcome: a stopped server leaves its runs to the next leader.
    private static void CancelOnSlurm(IEnumerable<long> ids)
    {
        var names = string.Join(',', ids.Select(id => $"gpufleet-{id}"));
        if (names.Length > 0) TestSlurm.Tool("scancel", "--name", names);
    }

    // Slurm's record of GpuFleet's run(s) of a job: state and nodes of each run Slurm still lists.
    private static List<(string State, string Nodes)> SlurmRuns(long id) => TestSlurm.Runs($"gpufleet-{id}");

    [Fact]
    public async Task Jobs_run_on_slurm_where_placed_end_with_their_exit_codes_and_leave_slurms_own_users_gpus_alone()
    {
        // A user of the cluster's own holds all of n16 with plain sbatch; GpuFleet must not place there.
        var foreign = TestSlurm.Tool("sbatch", "--parsable", "-J", "own-user", "-w", "n16", "--gres=gpu:8", "-o", "/dev/null", "--wrap", "sleep 600").Trim();
        var ids = new List<long>();
        try
        {
            // Held once it runs: GPUs a job only waits for are not yet taken.
            for (var i = 0; i < 100 && TestSlurm.Tool("squeue", "-h", "-j", foreign, "-o", "%T").Trim() != "RUNNING"; i++) await Task.Delay(100);
            await using var server = await StartAsync(SlurmFleet());
            var sizes = new[] { 1, 2, 4, 8, 16, 3, 8, 1 };
            for (var i = 0; i < 24; i++)
            {
                var command = i % 4 == 3 ? "sleep 1; exit 3" : "sleep 1";
                ids.Add((await server.PostJobAsync(new { tenant = i % 2 == 0 ? "a" : "b", gpus = sizes[i % sizes.Length], timeLimitSeconds = 600, command })).GetProperty("id").GetInt64());
            }
            await server.UntilAsync(async () => (await JobsAsync(server, ids)).All(Final), "every job ended", seconds: 180, explain: async () =>
                string.Join("; ", (await JobsAsync(server, ids)).Where(j => !Final(j)).Select(j => $"{j.GetProperty("id")} {j.GetProperty("gpus")} GPUs {j.GetProperty("state")} {j.GetProperty("placement")} {j.GetProperty("pendingMessage")} slurm: {string.Join(",", SlurmRuns(j.GetProperty("id").GetInt64()))}")));

            var jobs = await JobsAsync(server, ids);
            for (var i = 0; i < ids.Count; i++)
            {
                var (state, detail) = (jobs[i].GetProperty("state").GetString(), jobs[i].GetProperty("detail").GetString());
                if (i % 4 == 3) Assert.Equal(("failed", true), (state, detail!.StartsWith("exit code 3 (", StringComparison.Ordinal)));
                else Assert.Equal("succeeded", state);
                // One Slurm run per job, on the nodes GpuFleet placed it on, never on n16.
                var run = Assert.Single(SlurmRuns(ids[i]));
                var placed = jobs[i].GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()!).Order().ToList();
                Assert.Equal(placed, HostList.Expand(run.Nodes).Order().ToList());
                Assert.DoesNotContain("n16", placed);
            }
            Assert.Equal(0, server.Scheduler.SiteHealth.Single().Mismatches);
        }
        finally
        {
            TestSlurm.Tool("scancel", foreign);
            CancelOnSlurm(ids);
        }
    }

    [Fact]
    public void A_site_with_inventory_from_its_cluster_gets_slurms_nodes()
    {
        var yaml = $$"""
            name: t
            models:
              - { name: G, memoryGb: 80, busyWatts: 700, idleWatts: 100, relativeSpeed: 1 }
            sites:
              - { name: hpc, owner: o, powerCapMw: 1, pue: 1.2, executor: { kind: slurm, slurmConf: "{{TestSlurm.Conf}}", inventory: cluster, model: G } }
            """;
        var fleet = GpuFleet.Data.Fleets.FleetFile.Parse(new StringReader(yaml), "t.yaml", Execution.SiteExecutors.NodesOf);
        // Slurm's GRES here has no type: every node is of the executor's model.
        Assert.Equal(Enumerable.Range(1, 16).Select(i => ($"n{i:D2}", 8, "G")),
            Enumerable.Range(0, fleet.NodeCount).Select(n => (fleet.NodeName(n), fleet.NodeGpus(n), fleet.Models[fleet.PoolModel(fleet.NodePool(n))].Name)));
        Assert.Equal("n[01-16]", HostList.Compress([.. Enumerable.Range(0, fleet.NodeCount).Select(fleet.NodeName)]));
        // With their CPUs and memory (CPUs=32, RealMemory=2048000 MB): what jobs' cpusPerGpu and memoryGbPerGpu are held against.
        Assert.All(fleet.PoolSpecs, p => Assert.Equal((32, 2000), (p.CpusPerNode, p.MemoryGbPerNode)));
    }

    [Fact]
    public async Task Two_hundred_jobs_all_finish_once_with_their_exit_codes_and_gpu_seconds_as_slurm_accounts_them()
    {
        // Its checks read 200 jobs at a time, over and over.
        await using var server = await RunningServer.StartAsync(database: NewDatabase(), requestsPerMinute: 1_000_000, adjust: s => s with { Fleet = SlurmFleet() });
        // 1-16 GPUs: parts of a node, whole nodes, and one in forty uneven over two nodes (12 = 8 + 4, a
        // heterogeneous Slurm job, which only Slurm's backfill pass starts: every 30 s by default).
        var sizes = Enumerable.Range(0, 200).Select(i => i % 40 == 39 ? 12 : new[] { 1, 2, 3, 4, 8, 16, 1, 2, 4, 8 }[i % 10]).ToArray();
        var ids = new List<long>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var command = i % 10 == 9 ? "sleep 1; exit 7" : $"sleep {1 + i % 2}";
                ids.Add((await server.PostJobAsync(new { tenant = i % 3 == 0 ? "b" : "a", gpus = sizes[i], timeLimitSeconds = 600, command })).GetProperty("id").GetInt64());
            }
            await server.UntilAsync(async () => (await JobsAsync(server, ids)).All(Final), "every job ended", seconds: 400, explain: async () =>
                string.Join("; ", (await JobsAsync(server, ids)).Where(j => !Final(j)).Select(j => $"{j.GetProperty("id")} {j.GetProperty("gpus")} GPUs {j.GetProperty("state")} {j.GetProperty("placement")} {j.GetProperty("pendingMessage")} slurm: {string.Join(",", SlurmRuns(j.GetProperty("id").GetInt64()))}"))
                + $"; errors: {string.Join(" | ", server.Errors.Entries)}; Slurm's queue:\n{TestSlurm.Queue()}");

            var jobs = await JobsAsync(server, ids);
            for (var i = 0; i < ids.Count; i++)
            {
                var (state, detail) = (jobs[i].GetProperty("state").GetString(), jobs[i].GetProperty("detail").GetString());
                if (i % 10 == 9) Assert.Equal(("failed", true), (state, detail!.StartsWith("exit code 7 (", StringComparison.Ordinal)));
                else Assert.Equal("succeeded", state);
                // Launched once: one Slurm job in Slurm's completion records, with one record per component where
                // GPUs per node are uneven (a heterogeneous job, one component per GPU count: 12 as 8 + 4, or 3 as
                // 2 + 1 where no node had 3 free), which Slurm starts in one pass (each stamped with its own clock second).
                var records = TestSlurm.Completions($"gpufleet-{ids[i]}");
                Assert.Single(records.Select(r => r.Run).Distinct());
                var components = jobs[i].GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("gpus").GetArrayLength()).Distinct().Count();
                Assert.Equal(components, records.Count);
                Assert.InRange((records.Max(r => r.Start) - records.Min(r => r.Start)).TotalSeconds, 0, 2);
                var slurmGpuSeconds = sizes[i] * (records.Max(r => r.End) - records.Min(r => r.Start)).TotalSeconds;
                var charged = jobs[i].GetProperty("gpuSeconds").GetDouble();
                var error = Math.Abs(charged - slurmGpuSeconds) / Math.Max(1, slurmGpuSeconds);
                Assert.True(error <= 0.02, $"job {ids[i]}: GpuFleet charged {charged} GPU-seconds, Slurm accounts {slurmGpuSeconds}");
            }
            Assert.Equal(0, server.Scheduler.SiteHealth.Single().Mismatches);
        }
        finally
        {
            CancelOnSlurm(ids);
        }
    }

    [Fact]
    public async Task While_slurmctld_is_down_nothing_running_is_killed_nothing_is_placed_there_and_all_is_reconciled_after()
    {
        // A cluster of its own: stopping the shared one's controller would disturb every other Slurm test.
        using var slurm = PrivateSlurm.Start(nodes: 2);
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["slurmConf"] = slurm.Conf }, new GpuPoolSpec("s", "G", 8, 1, 2, 0) { NodeNames = "n{01}" });
        await using var server = await StartAsync(fleet);
        var running = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 600, command = "sleep 45" })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(slurm.Tool("squeue", "-h", "-n", $"gpufleet-{running}", "-o", "%T").Trim() == "RUNNING"), "the job running on Slurm", seconds: 120);

        slurm.StopController();
        var down = DateTimeOffset.UtcNow;
        await server.UntilAsync(() => Task.FromResult(!server.Scheduler.SiteHealth.Single().Reachable), "the site seen unreachable", seconds: 120);
        // Free GPUs before the outage (the other node), but nothing is placed at an unreachable site.
        var waiting = (await server.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 600, command = "sleep 1" })).GetProperty("id").GetInt64();
        while (DateTimeOffset.UtcNow - down < TimeSpan.FromSeconds(30))
        {
            Assert.Equal("pending", (await server.GetJobAsync(waiting)).GetProperty("state").GetString());
            Assert.Equal("running", (await server.GetJobAsync(running)).GetProperty("state").GetString());
            await Task.Delay(1000);
        }
        slurm.StartController();

        // Reconciled: the running job was never killed and ends once, the waiting one runs after.
        await server.UntilAsync(async () => Final(await server.GetJobAsync(running)) && Final(await server.GetJobAsync(waiting)), "both jobs ended", seconds: 180,
            explain: async () => $"{await server.GetJobAsync(running)} {await server.GetJobAsync(waiting)} errors: {string.Join(" | ", server.Errors.Entries)}");
        foreach (var id in new[] { running, waiting })
        {
            var job = await server.GetJobAsync(id);
            Assert.Equal("succeeded", job.GetProperty("state").GetString());
            Assert.Equal("COMPLETED", slurm.Tool("squeue", "-h", "-a", "--states=all", "-n", $"gpufleet-{id}", "-o", "%T").Trim());
        }
        Assert.True(server.Scheduler.SiteHealth.Single().Reachable);
    }

    [Fact]
    public async Task A_node_that_fails_under_a_job_sends_it_elsewhere_and_receives_nothing_until_it_returns()
    {
        await using var server = await StartAsync(SlurmFleet());
        // First run: long; a run again (after the node failure) ends at once.
        var marker = Path.Combine(Path.GetTempPath(), $"gpufleet-nodefail-{Guid.NewGuid():N}");
        var id = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 600, command = $"if [ -e {marker} ]; then exit 0; fi; touch {marker}; sleep 300" })).GetProperty("id").GetInt64();
        var other = id;
        await server.UntilAsync(() => Task.FromResult(SlurmRuns(id).Any(r => r.State == "RUNNING")), "the job running on Slurm", seconds: 180);
        var node = SlurmRuns(id).Single(r => r.State == "RUNNING").Nodes;
        // Drained first, so that the node stays out after it is set down (a down node alone may come back by itself).
        TestSlurm.Tool("scontrol", "update", $"nodename={node}", "state=drain", "reason=gpufleet-test");
        TestSlurm.Tool("scontrol", "update", $"nodename={node}", "state=down", "reason=gpufleet-test");
        try
        {
            await server.UntilAsync(async () => Final(await server.GetJobAsync(id)), "the job ended after running again", seconds: 180,
                explain: async () => $"job: {await server.GetJobAsync(id)}; Slurm: {string.Join(", ", SlurmRuns(id))}; errors: {string.Join(" | ", server.Errors.Entries)}");
            var job = await server.GetJobAsync(id);
            Assert.Equal("succeeded", job.GetProperty("state").GetString());
            Assert.Contains(job.GetProperty("history").EnumerateArray(), e => e.GetProperty("state").GetString() == "pending" && e.GetProperty("detail").GetString()!.StartsWith("requeued", StringComparison.Ordinal));
            var runs = SlurmRuns(id);
            Assert.Equal(2, runs.Count);
            Assert.Contains(runs, r => r.State == "NODE_FAIL" && r.Nodes == node);
            Assert.Contains(runs, r => r.State == "COMPLETED" && r.Nodes != node);
            // While the node is down, nothing goes there.
            other = (await server.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 600, command = "sleep 1" })).GetProperty("id").GetInt64();
            await server.UntilAsync(async () => Final(await server.GetJobAsync(other)), "another job ended", seconds: 180);
            Assert.DoesNotContain(node, Assert.Single(SlurmRuns(other)).Nodes);
        }
        finally
        {
            TestSlurm.Tool("scontrol", "update", $"nodename={node}", "state=resume");
            File.Delete(marker);
            CancelOnSlurm([id, other]);
        }
    }

    [Fact]
    public async Task A_new_leader_adopts_the_jobs_slurm_runs_and_none_is_launched_twice()
    {
        var database = NewDatabase();
        var ids = new List<long>();
        try
        {
            await using (var first = await StartAsync(SlurmFleet(), database))
            {
                for (var i = 0; i < 3; i++)
                    ids.Add((await first.PostJobAsync(new { tenant = "a", gpus = 4, timeLimitSeconds = 600, command = "sleep 8" })).GetProperty("id").GetInt64());
                await first.UntilAsync(() => Task.FromResult(ids.All(id => SlurmRuns(id).Any(r => r.State == "RUNNING"))), "the jobs running on Slurm", seconds: 180);
            }
            await using var second = await StartAsync(SlurmFleet(), database);
            Assert.All(await JobsAsync(second, ids), j => Assert.Equal("running", j.GetProperty("state").GetString()));
            await second.UntilAsync(async () => (await JobsAsync(second, ids)).All(Final), "the adopted jobs ended", seconds: 180);
            foreach (var (job, id) in (await JobsAsync(second, ids)).Zip(ids))
            {
                Assert.Equal("succeeded", job.GetProperty("state").GetString());
                Assert.Equal("COMPLETED", Assert.Single(SlurmRuns(id)).State);
                Assert.DoesNotContain(job.GetProperty("history").EnumerateArray(), e => e.GetProperty("detail").GetString() is { } d && d.StartsWith("requeued", StringComparison.Ordinal));
            }
        }
        finally
        {
            CancelOnSlurm(ids);
        }
    }
}
