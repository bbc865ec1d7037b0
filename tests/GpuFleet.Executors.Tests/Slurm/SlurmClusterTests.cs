using GpuFleet.Executors.Slurm;
using static GpuFleet.Executors.Tests.Slurm.LiveSlurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>The Slurm executor on a real Slurm (16 nodes × 8 GPUs; each test on nodes of its own).</summary>
[Trait("Category", "Slurm")]
public sealed class SlurmClusterTests
{
    [Fact]
    public async Task Jobs_start_on_the_nodes_placed_and_finish_with_their_exit_codes()
    {
        await using var executor = NewExecutor();
        long failing = NewJobId(), wide = NewJobId();
        await executor.LaunchAsync(Launch(failing, "exit 3", 60, ("n01", 1)), default);
        await executor.LaunchAsync(Launch(wide, "sleep 1", 60, ("n02", 8), ("n03", 8)), default);

        var seen = new List<ExecutorEvent>();
        await UntilAsync(executor, seen, s => Ended(s, failing, wide));

        var a = seen.Where(e => e.JobId == failing).ToList();
        Assert.Equal([ExecutorEventKind.Started, ExecutorEventKind.Finished], a.Select(e => e.Kind));
        Assert.Equal(["n01"], a[0].Nodes!);
        Assert.Equal(3, a[1].ExitCode);
        var b = seen.Where(e => e.JobId == wide).ToList();
        Assert.Equal([ExecutorEventKind.Started, ExecutorEventKind.Finished], b.Select(e => e.Kind));
        Assert.Equal(["n02", "n03"], b[0].Nodes!);
        Assert.DoesNotContain("placed", b[0].Detail);
        Assert.Equal(0, b[1].ExitCode);
    }

    [Fact]
    public async Task A_second_launch_of_a_job_even_from_a_new_executor_starts_nothing_and_cancel_stops_the_one_run()
    {
        var id = NewJobId();
        var name = ExecutorLaunch.RunName(id);
        var launch = Launch(id, "sleep 300", 600, ("n07", 2));
        await using var first = NewExecutor();
        await first.LaunchAsync(launch, default);
        await first.LaunchAsync(launch, default);
        await using var afterCrash = NewExecutor();
        await afterCrash.LaunchAsync(launch, default);
        Assert.Single(TestSlurm.Tool("squeue", "-h", "-n", name, "-o", "%i").Split('\n', StringSplitOptions.RemoveEmptyEntries));

        await afterCrash.CancelAsync(id, default);
        var seen = new List<ExecutorEvent>();
        await UntilAsync(afterCrash, seen, s => Ended(s, id));
        Assert.Equal(ExecutorEventKind.Cancelled, seen.Last(e => e.JobId == id).Kind);
        Assert.Empty(TestSlurm.Tool("squeue", "-h", "-n", name, "-o", "%i").Trim());
    }

    [Fact]
    public async Task Two_installations_run_the_same_job_id_side_by_side_and_each_cancels_only_its_own()
    {
        var id = NewJobId();
        await using var unnamed = NewExecutor();
        await using var staging = new SlurmExecutor(new SlurmExecutorOptions(SlurmConf: TestSlurm.Conf, Installation: "staging"));
        await unnamed.LaunchAsync(Launch(id, "sleep 300", 600, ("n07", 1)), default);
        await staging.LaunchAsync(Launch(id, "sleep 300", 600, ("n07", 1)), default);
        // A second launch in each finds its own run and starts nothing.
        await staging.LaunchAsync(Launch(id, "sleep 300", 600, ("n07", 1)), default);
        try
        {
            Assert.Single(TestSlurm.Runs($"gpufleet-staging-{id}"));
            Assert.Single(TestSlurm.Runs($"gpufleet-{id}"));
            List<ExecutorEvent> ours = [], theirs = [];
            // (Each executor reports every run of its installation it sees, other tests' included: this job's are awaited.)
            await UntilAsync(staging, ours, s => s.Any(e => e.JobId == id && e.Kind == ExecutorEventKind.Started));
            await UntilAsync(unnamed, theirs, s => s.Any(e => e.JobId == id && e.Kind == ExecutorEventKind.Started));
            var stagingRun = (await staging.ObserveAsync(default)).Runs.Single(r => r.JobId == id).ExternalId;
            var unnamedRun = (await unnamed.ObserveAsync(default)).Runs.Single(r => r.JobId == id).ExternalId;
            Assert.NotEqual(stagingRun, unnamedRun);

            await staging.CancelAsync(id, default);
            await UntilAsync(staging, ours, s => Ended(s, id));
            Assert.Equal(ExecutorEventKind.Cancelled, ours.Last(e => e.JobId == id).Kind);
            // The unnamed installation's run of the same job id runs on, and its executor heard of no end.
            Assert.Equal("RUNNING", TestSlurm.Runs($"gpufleet-{id}").Single().State);
            var seen = await unnamed.ObserveAsync(default);
            Assert.DoesNotContain(seen.Events, e => e.JobId == id && e.Ends);
            Assert.Equal(unnamedRun, seen.Runs.Single(r => r.JobId == id).ExternalId);
        }
        finally
        {
            await unnamed.CancelAsync(id, default);
            await staging.CancelAsync(id, default);
        }
    }

    [Fact]
    public async Task Gpus_of_a_job_submitted_outside_gpufleet_are_held_by_others()
    {
        await using var executor = NewExecutor();
        var ours = NewJobId();
        var theirs = $"train-{ours}";
        TestSlurm.Tool("sbatch", "-J", theirs, "--nodelist=n08", "-N", "1", "--gres=gpu:3", "-t", "10", "-o", "/dev/null", "--wrap", "sleep 300");
        try
        {
            await executor.LaunchAsync(Launch(ours, "sleep 300", 600, ("n08", 2)), default);
            await UntilAsync(executor, [], s => s.Any(e => e.JobId == ours && e.Kind == ExecutorEventKind.Started));
            InventoryNode n08;
            do
            {
                await Task.Delay(200);
                n08 = (await executor.InventoryAsync(default)).Nodes.Single(n => n.Name == "n08");
            }
            while (n08.GpusHeldByOthers == 0 && TestSlurm.Tool("squeue", "-h", "-n", theirs, "-o", "%T").Trim() == "PENDING");
            // The test cluster's nodes: CPUs=32, RealMemory=2048000 (MB).
            Assert.Equal(new InventoryNode("n08", 8, null, InventoryNodeState.Up, 3, Cpus: 32, MemoryGb: 2000), n08);
        }
        finally
        {
            TestSlurm.Tool("scancel", "-n", theirs);
            await executor.CancelAsync(ours, default);
        }
    }

    [Fact]
    public async Task A_drained_node_is_drained_in_the_inventory()
    {
        await using var executor = NewExecutor();
        TestSlurm.Tool("scontrol", "update", "nodename=n05", "state=drain", "reason=test");
        try
        {
            var nodes = (await executor.InventoryAsync(default)).Nodes;
            Assert.Equal(InventoryNodeState.Drained, nodes.Single(n => n.Name == "n05").State);
            Assert.Equal(16, nodes.Count);
            Assert.All(nodes, n => Assert.Equal(8, n.Gpus));
        }
        finally
        {
            TestSlurm.Tool("scontrol", "update", "nodename=n05", "state=resume");
        }
    }

    [Fact]
    public async Task A_checkpoint_signal_reaches_the_commands_processes_and_leaves_the_job_to_them()
    {
        await using var executor = NewExecutor();
        var id = NewJobId();
        var ready = TestFiles.Temp("trap-set");
        // The command's own shell saves its "checkpoint" on SIGUSR1 and ends with 0; the file says its trap is set.
        await executor.LaunchAsync(Launch(id, $"sh -c 'trap \"exit 0\" USR1; touch {ready}; while :; do sleep 1; done'", 600, ("n10", 1)), default);
        try
        {
            var seen = new List<ExecutorEvent>();
            await UntilAsync(executor, seen, _ => File.Exists(ready));
            await executor.SignalAsync(id, ExecutorSignal.Checkpoint, default);
            await UntilAsync(executor, seen, s => Ended(s, id));
            var end = seen.Last(e => e.JobId == id);
            Assert.Equal((ExecutorEventKind.Finished, 0), (end.Kind, end.ExitCode));
        }
        finally
        {
            await executor.CancelAsync(id, default);
        }
    }
}

/// <summary>A job with different GPU counts on its nodes (Slurm starts it from its backfill pass, up to 30 s later).</summary>
[Trait("Category", "Slurm")]
public sealed class SlurmHeterogeneousJobTests
{
    [Fact]
    public async Task Twelve_gpus_as_eight_and_four_run_on_both_nodes_holding_exactly_those_gpus()
    {
        await using var executor = NewExecutor();
        var id = NewJobId();
        await executor.LaunchAsync(Launch(id, "sleep 20", 120, ("n04", 8), ("n06", 4)), default);
        try
        {
            var seen = new List<ExecutorEvent>();
            await UntilAsync(executor, seen, s => s.Any(e => e.JobId == id));
            var started = seen.Single(e => e.JobId == id);
            Assert.Equal(ExecutorEventKind.Started, started.Kind);
            Assert.Equal(["n04", "n06"], started.Nodes!);
            var nodes = (await executor.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);
            Assert.Equal(0, nodes["n04"].GpusHeldByOthers);
            Assert.Equal(0, nodes["n06"].GpusHeldByOthers);
            Assert.Equal("8 4", string.Join(' ', TestSlurm.Tool("sinfo", "-h", "-N", "-n", "n04,n06", "-O", "GresUsed:|").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim('|').Split(':')[^1].Split('(')[0])));
            await UntilAsync(executor, seen, s => Ended(s, id));
            // The poll reports every GpuFleet job on the cluster, other tests' too: this job's last event is its end.
            var end = seen.Last(e => e.JobId == id);
            Assert.Equal((ExecutorEventKind.Finished, 0), (end.Kind, end.ExitCode));
        }
        finally
        {
            await executor.CancelAsync(id, default);
        }
    }
}

/// <summary>A job that runs past its limit (Slurm's limits are whole minutes: this one takes one to two).</summary>
[Trait("Category", "Slurm")]
public sealed class SlurmTimeLimitTests
{
    [Fact]
    public async Task A_job_past_its_time_limit_times_out()
    {
        await using var executor = NewExecutor();
        var id = NewJobId();
        await executor.LaunchAsync(Launch(id, "sleep 300", 60, ("n09", 1)), default);
        try
        {
            var seen = new List<ExecutorEvent>();
            await UntilAsync(executor, seen, s => Ended(s, id));
            Assert.Equal([ExecutorEventKind.Started, ExecutorEventKind.TimedOut], seen.Where(e => e.JobId == id).Select(e => e.Kind));
        }
        finally
        {
            await executor.CancelAsync(id, default);
        }
    }
}
