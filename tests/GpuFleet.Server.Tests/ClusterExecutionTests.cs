using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Executors;
using GpuFleet.Server.Execution;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Server.Tests;

/// <summary>
/// The live server driving a site's cluster through its executor (a cluster in memory here; the Slurm
/// tests run the same path on a real Slurm): runs launched where placed, ends with their exit codes,
/// outages that keep work running, lost runs requeued, nodes out of service, runs adopted by a new leader.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClusterExecutionTests
{
    // SmallFleet (two nodes of 8 GPUs at site "s") with an executor at the site, looked at every second.
    private static readonly Fleet ClusterFleet = RunningServer.SmallFleetRunBy("slurm");

    // The same with a grace time of one second between an eviction's checkpoint signal and its cancel.
    private static readonly Fleet GraceFleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["checkpointGraceSeconds"] = "1" });

    private static Task<RunningServer> StartAsync(InMemoryCluster cluster, string? database = null) =>
        RunningServer.StartAsync(database: database, adjust: s => s with { Fleet = ClusterFleet },
            services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));

    private static async Task<string> StateOf(RunningServer server, long id) => (await server.GetJobAsync(id)).GetProperty("state").GetString()!;

    [Fact]
    public async Task A_placement_runs_on_the_sites_cluster_where_placed_and_its_exit_code_decides_the_end()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0);
        await using var server = await StartAsync(cluster);
        var failing = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600, name = "train", command = "python train.py" })).GetProperty("id").GetInt64();
        var passing = (await server.PostJobAsync(new { tenant = "b", gpus = 2, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(failing) && cluster.Runs(passing)), "both jobs launched on the cluster");

        var launch = cluster.Launches.Single(l => l.JobId == failing);
        Assert.Equal(("train", "python train.py", "a", 3600L), (launch.Name, launch.Command, launch.Tenant, launch.TimeLimitSeconds));
        var placement = (await server.GetJobAsync(failing)).GetProperty("placement").GetString()!;
        var node = Assert.Single(launch.Nodes);
        Assert.Contains(node.Node, placement);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], node.Gpus);

        cluster.Finish(failing, 3);
        cluster.Finish(passing, 0);
        await server.UntilAsync(async () => await StateOf(server, failing) == "failed" && await StateOf(server, passing) == "succeeded", "both ends recorded");
        Assert.Equal("exit code 3", (await server.GetJobAsync(failing)).GetProperty("detail").GetString());
        Assert.Single(cluster.Launches, l => l.JobId == failing);
    }

    [Fact]
    public async Task An_unreachable_cluster_keeps_its_jobs_running_and_takes_no_new_ones_until_it_answers()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0);
        await using var server = await StartAsync(cluster);
        var running = (await server.PostJobAsync(new { tenant = "a", gpus = 4, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(running)), "the first job launched");

        cluster.Reachable = false;
        await server.UntilAsync(() => Task.FromResult(server.Scheduler.SiteHealth.Single() is { Reachable: false }), "the site seen unreachable");
        var waiting = (await server.PostJobAsync(new { tenant = "b", gpus = 2, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        for (var i = 0; i < 5; i++)
        {
            server.Scheduler.Tick();
            await Task.Delay(200);
        }
        Assert.Equal("pending", await StateOf(server, waiting));
        Assert.Equal("running", await StateOf(server, running));
        Assert.Contains("connection refused", server.Scheduler.SiteHealth.Single().LastError);
        var site = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites")).EnumerateArray().Single();
        Assert.Equal((false, 16, "slurm"), (site.GetProperty("reachable").GetBoolean(), site.GetProperty("outOfServiceGpus").GetInt32(), site.GetProperty("executor").GetString()));
        Assert.Contains("gpufleet_site_reachable{site=\"s\"} 0", await server.ClientWith(null).GetStringAsync("/metrics"));

        cluster.Reachable = true;
        await server.UntilAsync(async () => await StateOf(server, waiting) == "running" && cluster.Runs(waiting), "the waiting job placed once the cluster answers");
        Assert.Equal("running", await StateOf(server, running));
        Assert.Empty(cluster.Cancels);
        Assert.True(server.Scheduler.SiteHealth.Single().Reachable);
    }

    [Fact]
    public async Task A_run_the_cluster_lost_queues_the_job_again_and_it_runs_again()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0);
        await using var server = await StartAsync(cluster);
        var id = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(id)), "the job launched");
        cluster.Forget(id);
        await server.UntilAsync(() => Task.FromResult(cluster.Launches.Count(l => l.JobId == id) == 2 && cluster.Runs(id)), "the job launched again");
        var history = (await server.GetJobAsync(id)).GetProperty("history");
        Assert.Contains(history.EnumerateArray(), e => e.GetProperty("detail").GetString() is { } d && d.Contains("has no run of it"));
    }

    [Fact]
    public async Task A_run_the_cluster_does_not_start_within_the_launch_timeout_is_cancelled_there_and_the_job_runs_again()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0) { StartsRuns = false };
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["launchTimeoutSeconds"] = "2" });
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        var id = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Cancels.Contains(id)), "the unstarted run cancelled on the cluster");
        cluster.StartsRuns = true;
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(id)), "the job launched again");
        cluster.Finish(id, 0);
        await server.UntilAsync(async () => await StateOf(server, id) == "succeeded", "the job ended");
        var history = (await server.GetJobAsync(id)).GetProperty("history").EnumerateArray().Select(e => e.GetProperty("detail").GetString()).ToList();
        Assert.Contains("requeued: the cluster at s did not start it within 2 s", history);
        Assert.Equal(2, cluster.Launches.Count(l => l.JobId == id));
    }

    [Fact]
    public async Task Nodes_where_the_cluster_did_not_start_a_run_in_time_take_no_new_work_for_as_long_again()
    {
        // The first launch is left unstarted (a reservation about to begin there, say); every later one starts.
        var cluster = new InMemoryCluster(ClusterFleet, 0) { LeaveUnstarted = 1 };
        // Inventories far apart: the nodes come back into service through the set-aside's own expiry, not a fresh inventory.
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["launchTimeoutSeconds"] = "5", ["inventorySeconds"] = "3600" });
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        var first = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Launches.Count(l => l.JobId == first) == 2), "the job launched again", seconds: 60);
        var nodes = cluster.Launches.Where(l => l.JobId == first).Select(l => l.Nodes.Single().Node).ToList();
        // Again, elsewhere: not on the node where the cluster did not start it.
        Assert.NotEqual(nodes[0], nodes[1]);
        Assert.Contains(server.Errors.Warnings, w => w.Contains($"did not start job {first} within 5 s on {nodes[0]}", StringComparison.Ordinal)
            && w.Contains("those nodes take no new work for 5 s", StringComparison.Ordinal));
        await server.UntilAsync(async () => (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0].GetProperty("setAsideNodes") is
            { ValueKind: JsonValueKind.Array } aside && aside.EnumerateArray().Select(n => n.GetString()).SequenceEqual([nodes[0]]), "the node shown set aside");

        // The node set aside takes the next job once as long again has passed, not before.
        var second = (await server.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(second)), "the next job launched on the node set aside", seconds: 60);
        Assert.Equal(nodes[0], cluster.Launches.Single(l => l.JobId == second).Nodes.Single().Node);
        // A lower bound only (a slow machine makes it later): the node was set aside 5 s or more after the first
        // launch, for 5 s. Posted once the first job ran again, the next job would have launched there at once.
        DateTimeOffset LaunchedAt(long job) => cluster.LaunchTimes[cluster.Launches.FindIndex(l => l.JobId == job)];
        Assert.True(LaunchedAt(second) - LaunchedAt(first) >= TimeSpan.FromSeconds(10), $"first launched {LaunchedAt(first):O}, the next {LaunchedAt(second):O}");
    }

    [Fact]
    public async Task A_new_leader_keeps_the_nodes_the_previous_one_set_aside_until_the_same_time()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0) { LeaveUnstarted = 1 };
        // A short launch timeout, a long set-aside: the handover happens well within it.
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["launchTimeoutSeconds"] = "3", ["setAsideSeconds"] = "3600" });
        Task<RunningServer> Start(string db) => RunningServer.StartAsync(database: db, adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        var database = RunningServer.NewDatabase(Backend.Sqlite);
        string aside;
        DateTimeOffset until;
        await using (var first = await Start(database))
        {
            var id = (await first.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
            await first.UntilAsync(() => Task.FromResult(cluster.Runs(id) && cluster.Launches.Count(l => l.JobId == id) == 2), "the job launched again and runs", seconds: 60);
            aside = cluster.Launches.First(l => l.JobId == id).Nodes.Single().Node;
            var site = (await first.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0];
            Assert.Equal([aside], site.GetProperty("setAsideNodes").EnumerateArray().Select(n => n.GetString()));
            until = site.GetProperty("setAsideUntil").GetProperty(aside).GetDateTimeOffset();
            Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(50), TimeSpan.FromMinutes(61));
            // The leader publishes its view every 2 s of its clock: once more, with the node set aside.
            first.Clock.Advance(TimeSpan.FromSeconds(3));
            first.Scheduler.Tick();
        }
        await using var second = await Start(database);
        // The only free node is the one set aside: the next job waits rather than launch there.
        var next = (await second.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        for (var i = 0; i < 3; i++)
        {
            second.Scheduler.Tick();
            await Task.Delay(300);
        }
        Assert.DoesNotContain(cluster.Launches, l => l.JobId == next);
        Assert.Equal("pending", await StateOf(second, next));
        var kept = (await second.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0];
        Assert.Equal([aside], kept.GetProperty("setAsideNodes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(until, kept.GetProperty("setAsideUntil").GetProperty(aside).GetDateTimeOffset());
    }

    [Fact]
    public async Task A_run_that_waits_on_itself_sets_no_node_aside_when_it_times_out()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0) { LeaveUnstarted = 1, WaitReason = "ImagePullBackOff", WaitIsItsOwn = true };
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["launchTimeoutSeconds"] = "2", ["inventorySeconds"] = "3600" });
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        var id = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Launches.Count(l => l.JobId == id) == 2), "the job launched again", seconds: 60);
        var warning = Assert.Single(server.Errors.Warnings, w => w.Contains($"did not start job {id} within 2 s", StringComparison.Ordinal));
        Assert.Contains("(ImagePullBackOff): cancelled there and queued again", warning);
        Assert.DoesNotContain("take no new work", warning);
        Assert.Equal(JsonValueKind.Null, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0].GetProperty("setAsideNodes").ValueKind);
    }

    [Fact]
    public async Task A_run_the_cluster_has_not_started_shows_at_its_site_and_in_metrics_and_a_long_wait_is_warned_of_once()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0) { StartsRuns = false, WaitReason = "PENDING (ReqNodeNotAvail, Reserved for maintenance)" };
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["launchWarningSeconds"] = "2" });
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        var id = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        async Task<JsonElement> Site() => (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0];
        async Task<string> Metrics() => await server.ClientWith(null).GetStringAsync("/metrics");

        await server.UntilAsync(async () => server.Errors.Warnings.Any(w => w.Contains($"job {id},", StringComparison.Ordinal))
            && (await Site()).GetProperty("waitingInCluster").ValueKind == JsonValueKind.Object, "the wait warned of and shown");
        var waiting = (await Site()).GetProperty("waitingInCluster");
        Assert.Equal((1, id, "a", "PENDING (ReqNodeNotAvail, Reserved for maintenance)"), (waiting.GetProperty("runs").GetInt32(),
            waiting.GetProperty("oldestJob").GetInt64(), waiting.GetProperty("oldestTenant").GetString(), waiting.GetProperty("oldestReason").GetString()));
        // Another tenant's token sees that a run waits, and for how long, not whose nor why; the job's own tenant sees it all.
        async Task<JsonElement> WaitingSeenBy(string tenant)
        {
            using var minted = await server.Client.PostAsJsonAsync("/api/v1/tokens", new { role = "member", tenant });
            using var client = server.ClientWith((await minted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
            return (await client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0].GetProperty("waitingInCluster");
        }
        var other = await WaitingSeenBy("b");
        Assert.Equal((1, JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.Null, 0), (other.GetProperty("runs").GetInt32(),
            other.GetProperty("oldestJob").ValueKind, other.GetProperty("oldestTenant").ValueKind, other.GetProperty("oldestReason").ValueKind,
            other.GetProperty("jobs").GetArrayLength()));
        var own = await WaitingSeenBy("a");
        Assert.Equal(id, own.GetProperty("oldestJob").GetInt64());
        var listed = Assert.Single(own.GetProperty("jobs").EnumerateArray());
        Assert.Equal((id, "a", "PENDING (ReqNodeNotAvail, Reserved for maintenance)"),
            (listed.GetProperty("job").GetInt64(), listed.GetProperty("tenant").GetString(), listed.GetProperty("reason").GetString()));
        // The job's own view says it too: running, as placed, but waiting in its cluster since its launch, and why.
        var job = await server.GetJobAsync(id);
        Assert.Equal("running", job.GetProperty("state").GetString());
        var wait = job.GetProperty("waitingInCluster");
        Assert.Equal(("PENDING (ReqNodeNotAvail, Reserved for maintenance)", listed.GetProperty("since").GetDateTimeOffset()),
            (wait.GetProperty("reason").GetString(), wait.GetProperty("since").GetDateTimeOffset()));
        // And its page on the dashboard.
        using (var browser = await GpuFleet.Tests.Shared.DashboardSignIn.ClientAsync(server.Client.BaseAddress!.ToString(), RunningServer.AdminToken))
        {
            var page = await browser.GetStringAsync($"/jobs/{id}");
            Assert.Contains("<dt>Waiting in its cluster</dt><dd>since ", page);
            Assert.Contains(": PENDING (ReqNodeNotAvail, Reserved for maintenance) <span class=\"muted\">(placed, not started yet", page);
        }
        Assert.Contains("gpufleet_site_waiting_runs{site=\"s\"} 1", await Metrics());
        var warning = Assert.Single(server.Errors.Warnings, w => w.Contains("for the cluster to start it", StringComparison.Ordinal));
        Assert.Contains($"job {id}, placed on {cluster.Launches.Single(l => l.JobId == id).Nodes.Single().Node}, has waited ", warning);
        Assert.Contains("(PENDING (ReqNodeNotAvail, Reserved for maintenance)); at 600 s it is cancelled there and queued again", warning);

        cluster.Start(id);
        await server.UntilAsync(async () => (await Site()).GetProperty("waitingInCluster").ValueKind == JsonValueKind.Null, "the wait over once the cluster started it");
        Assert.Equal(JsonValueKind.Null, (await server.GetJobAsync(id)).GetProperty("waitingInCluster").ValueKind);
        Assert.Contains("gpufleet_site_waiting_runs{site=\"s\"} 0", await Metrics());
        Assert.Contains("gpufleet_site_longest_wait_seconds{site=\"s\"} 0", await Metrics());
        // Warned of once, however long it waited.
        Assert.Single(server.Errors.Warnings, w => w.Contains("for the cluster to start it", StringComparison.Ordinal));
        Assert.Equal("running", await StateOf(server, id));
    }

    [Fact]
    public async Task Drained_nodes_and_gpus_held_by_the_clusters_own_users_take_no_placements()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0);
        cluster.SetNode(ClusterFleet.NodeName(0), InventoryNodeState.Drained);
        cluster.SetNode(ClusterFleet.NodeName(1), InventoryNodeState.Up, heldByOthers: 6);
        await using var server = await StartAsync(cluster);
        var big = (await server.PostJobAsync(new { tenant = "a", gpus = 4, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        var small = (await server.PostJobAsync(new { tenant = "b", gpus = 2, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(small)), "the 2-GPU job launched");
        Assert.Equal(ClusterFleet.NodeName(1), cluster.Launches.Single(l => l.JobId == small).Nodes.Single().Node);
        Assert.Equal([0, 1], cluster.Launches.Single(l => l.JobId == small).Nodes.Single().Gpus);
        Assert.Equal("pending", await StateOf(server, big));
        Assert.False(cluster.Runs(big));
        // The site's view tells the drained node's 8 GPUs from the 6 its own users hold.
        var site = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0];
        Assert.Equal((14, 6), (site.GetProperty("outOfServiceGpus").GetInt32(), site.GetProperty("heldByOthersGpus").GetInt32()));
    }

    [Fact]
    public async Task A_new_leader_adopts_the_runs_the_cluster_still_has_instead_of_requeuing_them()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0);
        var database = RunningServer.NewDatabase(Backend.Sqlite);
        long id;
        await using (var first = await StartAsync(cluster, database))
        {
            id = (await first.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
            await first.UntilAsync(() => Task.FromResult(cluster.Runs(id)), "the job launched");
        }
        await using var second = await StartAsync(cluster, database);
        Assert.Equal("running", await StateOf(second, id));
        for (var i = 0; i < 3; i++)
        {
            second.Scheduler.Tick();
            await Task.Delay(300);
        }
        Assert.Equal("running", await StateOf(second, id));
        cluster.Finish(id, 0);
        await second.UntilAsync(async () => await StateOf(second, id) == "succeeded", "the adopted run's end recorded");
        Assert.Single(cluster.Launches, l => l.JobId == id);
        var history = (await second.GetJobAsync(id)).GetProperty("history");
        Assert.DoesNotContain(history.EnumerateArray(), e => e.GetProperty("state").GetString() == "pending" && e.GetProperty("detail").GetString()!.Contains("requeued"));
    }

    [Fact]
    public async Task A_new_leader_counts_an_adopted_run_the_cluster_has_not_started_as_waiting_and_times_it_out()
    {
        var cluster = new InMemoryCluster(ClusterFleet, 0) { StartsRuns = false };
        var fleet = RunningServer.SmallFleetRunBy("slurm", new Dictionary<string, string> { ["launchTimeoutSeconds"] = "3" });
        Task<RunningServer> Start(string db) => RunningServer.StartAsync(database: db, adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        var database = RunningServer.NewDatabase(Backend.Sqlite);
        long id;
        await using (var first = await Start(database))
        {
            id = (await first.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
            await first.UntilAsync(() => Task.FromResult(cluster.Runs(id)), "the job launched");
        }
        await using var second = await Start(database);
        await second.UntilAsync(async () => (await second.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0].GetProperty("waitingInCluster") is
            { ValueKind: JsonValueKind.Object } w && w.GetProperty("oldestJob").GetInt64() == id, "the adopted run shown waiting");
        cluster.StartsRuns = true;
        await second.UntilAsync(() => Task.FromResult(cluster.Cancels.Contains(id) && cluster.Launches.Count(l => l.JobId == id) == 2), "the adopted run timed out and launched again");
        Assert.Contains((await second.GetJobAsync(id)).GetProperty("history").EnumerateArray(),
            e => e.GetProperty("detail").GetString() == "requeued: the cluster at s did not start it within 3 s");
    }

    [Fact]
    public async Task An_eviction_sends_the_checkpoint_signal_then_cancels_after_the_grace_time_and_the_preemptor_runs()
    {
        var cluster = new InMemoryCluster(GraceFleet, 0);
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = GraceFleet },
            services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        // Tenant b borrows the whole fleet; then tenant a asks for its guaranteed 8 GPUs.
        var borrowers = new List<long>();
        for (var i = 0; i < 2; i++) borrowers.Add((await server.PostJobAsync(new { tenant = "b", gpus = 8, timeLimitSeconds = 36000 })).GetProperty("id").GetInt64());
        await server.UntilAsync(() => Task.FromResult(borrowers.All(cluster.Runs)), "the borrowers launched");
        server.Clock.Advance(TimeSpan.FromHours(1));   // past the borrowers' minimum runtime
        var owner = (await server.PostJobAsync(new { tenant = "a", gpus = 8, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(owner)), "the owner's job launched");

        var victim = Assert.Single(borrowers, id => !cluster.Runs(id));
        Assert.Contains((victim, ExecutorSignal.Checkpoint), cluster.Signals);
        Assert.Contains(victim, cluster.Cancels);
        Assert.Equal("pending", await StateOf(server, victim));
        Assert.Contains("preempted", (await server.GetJobAsync(victim)).GetProperty("detail").GetString());
        // The owner started only after the victim's run was cancelled: never two runs on the same GPUs.
        Assert.True(cluster.Order.IndexOf($"cancel {victim}") < cluster.Order.IndexOf($"launch {owner}"), string.Join(", ", cluster.Order));
    }
}
