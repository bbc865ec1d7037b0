using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>The Slurm executor over recorded tool output: what it submits, observes, cancels and inventories.</summary>
[Trait("Category", "Unit")]
public sealed class SlurmExecutorTests
{
    private static readonly DateTimeOffset Recorded = DateTimeOffset.FromUnixTimeSeconds(1796197300);

    private static (SlurmExecutor Executor, FakeSlurmTools Tools) Executor(
        Func<string, IReadOnlyList<string>, SlurmToolResult>? answer = null, SlurmExecutorOptions? options = null, TimeProvider? clock = null)
    {
        var o = options ?? new SlurmExecutorOptions();
        var tools = new FakeSlurmTools(answer ?? RecordedCluster);
        return (new SlurmExecutor(o, new SlurmCommandLineClient(o, tools), clock ?? new FixedClock(Recorded)), tools);
    }

    // The local cluster as record.sh left it: squeue and sinfo as recorded, no accounting, and no live
    // run of a job that is looked up by name unless the test says otherwise.
    private static SlurmToolResult RecordedCluster(string tool, IReadOnlyList<string> args) => tool switch
    {
        "squeue" when args.Contains("-n") => FakeSlurmTools.Ok(),
        "squeue" => FakeSlurmTools.Ok(FakeSlurmTools.Recorded("squeue-states.out")),
        "sinfo" => FakeSlurmTools.Ok(FakeSlurmTools.Recorded("sinfo-nodes.out")),
        "sacct" => FakeSlurmTools.Error(FakeSlurmTools.Recorded("sacct-disabled.err")),
        "sbatch" => FakeSlurmTools.Ok("20000\n"),
        "scancel" => FakeSlurmTools.Ok(),
        _ => throw new InvalidOperationException(tool),
    };

    private static ExecutorLaunch Launch(long id, string? command, params (string Node, int Gpus)[] nodes) =>
        new(id, "train", "tenant-a", command, 90, [.. nodes.Select(n => new NodeGpus(n.Node, [.. Enumerable.Range(0, n.Gpus)]))]);

    [Fact]
    public async Task A_launch_submits_its_nodes_gpus_per_node_rounded_up_limit_and_tenant()
    {
        var (executor, tools) = Executor();
        await executor.LaunchAsync(Launch(903, "sleep 1", ("n02", 8), ("n03", 8)), default);

        var args = tools.CallsOf("sbatch").Single();
        Assert.Equal(["--parsable", "-J", "gpufleet-903", "--comment=tenant-a", "-o", "/dev/null", "--no-requeue",
            "--time=2", "--nodelist=n[02-03]", "--nodes=2", "--gres=gpu:8", "--wrap", "trap : USR1\nsleep 1"], args);
        // Looked for a live run of the job first.
        Assert.Equal(["-a", "-h", "-n", "gpufleet-903", "-o", "%i"], tools.CallsOf("squeue").Single());
    }

    [Fact]
    public async Task The_tenant_is_the_account_partition_and_site_options_are_added_when_configured()
    {
        var (executor, tools) = Executor(options: new SlurmExecutorOptions(Partition: "gpu", UseTenantAsAccount: true,
            ExtraSbatchArguments: ["--qos=fleet"], OutputDirectory: "/shared/logs"));
        await executor.LaunchAsync(Launch(5, "true", ("n01", 1)), default);

        var args = tools.CallsOf("sbatch").Single();
        Assert.Equal(["--parsable", "-J", "gpufleet-5", "--comment=tenant-a", "-o", "/shared/logs/gpufleet-5.out", "--no-requeue",
            "--open-mode=append", "--qos=fleet", "--partition=gpu", "--account=tenant-a", "--time=2", "--nodelist=n01", "--nodes=1",
            "--gres=gpu:1", "--wrap", "trap : USR1\ntrue"], args);
        Assert.Equal(["-a", "-p", "gpu", "-h", "-n", "gpufleet-5", "-o", "%i"], tools.CallsOf("squeue").Single());
    }

    [Fact]
    public async Task Uneven_gpus_per_node_make_a_heterogeneous_job_that_holds_exactly_what_was_placed()
    {
        var (executor, tools) = Executor();
        await executor.LaunchAsync(Launch(907, "sleep 1", ("n06", 8), ("n07", 4), ("n08", 8)), default);

        var args = tools.CallsOf("sbatch").Single().ToList();
        var colon = args.IndexOf(":");
        // Each component at the back of Slurm's priority order, so that it holds no other job back while it waits for backfill.
        Assert.Equal(["--time=2", "--nodelist=n[06,08]", "--nodes=2", "--gres=gpu:8", "--nice=1000000"], args[(colon - 5)..colon]);
        Assert.Equal(["--time=2", "--nodelist=n07", "--nodes=1", "--gres=gpu:4", "--nice=1000000", "--wrap"], args[(colon + 1)..^1]);
    }

    [Theory]
    [InlineData(30L, "sleep 30")]
    [InlineData(null, "sleep 90")]
    public async Task A_job_without_a_command_sleeps_its_runtime_or_its_limit(long? runtime, string sleep)
    {
        var (executor, tools) = Executor();
        await executor.LaunchAsync(Launch(6, null, ("n01", 1)) with { RuntimeSeconds = runtime }, default);
        Assert.Equal("trap : USR1\n" + sleep, tools.CallsOf("sbatch").Single()[^1]);
    }

    [Fact]
    public async Task A_launch_of_a_job_that_slurm_already_runs_submits_nothing_and_takes_the_run_over()
    {
        var (executor, tools) = Executor((tool, args) => tool == "squeue" && args.Contains("-n")
            ? FakeSlurmTools.Ok(FakeSlurmTools.Recorded("squeue-ids-hetjob.out"))
            : RecordedCluster(tool, args));
        await executor.LaunchAsync(Launch(907, "sleep 1", ("n06", 8), ("n07", 4)), default);
        Assert.Empty(tools.CallsOf("sbatch"));

        // The run found is the one cancelled, without looking for it again.
        await executor.CancelAsync(907, default);
        Assert.Single(tools.CallsOf("squeue"));
        Assert.Equal(["10973"], tools.CallsOf("scancel").Single());
    }

    [Fact]
    public async Task After_a_look_at_the_cluster_a_first_launch_submits_without_asking_slurm_and_a_retry_after_a_failed_submission_asks()
    {
        var failNext = false;
        var (executor, tools) = Executor((tool, args) => tool == "sbatch" && failNext
            ? FakeSlurmTools.Error(FakeSlurmTools.Recorded("sbatch-unreachable.err"))
            : RecordedCluster(tool, args));
        Assert.False(FakeSlurmTools.Recorded("squeue-states.out").Contains("gpufleet-920", StringComparison.Ordinal));
        // Before any look, a launch asks whether a run exists.
        await executor.LaunchAsync(Launch(919, "true", ("n01", 1)), default);
        Assert.Single(tools.CallsOf("squeue"), a => a.Contains("-n"));
        await executor.ObserveAsync(default);
        // After it, a job it did not list and no launch tried is submitted at once: one squeue fewer per launch.
        await executor.LaunchAsync(Launch(920, "true", ("n01", 1)), default);
        Assert.Single(tools.CallsOf("squeue"), a => a.Contains("-n"));
        // A submission that failed may still have reached Slurm: its retry asks first.
        failNext = true;
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => executor.LaunchAsync(Launch(921, "true", ("n01", 1)), default));
        failNext = false;
        await executor.LaunchAsync(Launch(921, "true", ("n01", 1)), default);
        Assert.Equal(2, tools.CallsOf("squeue").Count(a => a.Contains("-n")));
        Assert.Equal(4, tools.CallsOf("sbatch").Count());
    }

    [Theory]
    [InlineData("sbatch-invalid-node.err", typeof(ExecutorRejectedException), "Invalid node name specified")]
    [InlineData("sbatch-too-many-gpus.err", typeof(ExecutorRejectedException), "Requested node configuration is not available")]
    [InlineData("sbatch-unreachable.err", typeof(ExecutorUnreachableException), "Unable to contact slurm controller")]
    [InlineData("sbatch-no-munge.err", typeof(ExecutorUnreachableException), "Protocol authentication error")]
    public async Task A_refused_submission_is_rejected_in_slurms_words_and_an_unreachable_controller_is_unreachable(
        string recorded, Type expected, string message)
    {
        var (executor, _) = Executor((tool, args) => tool == "sbatch"
            ? FakeSlurmTools.Error(FakeSlurmTools.Recorded(recorded))
            : RecordedCluster(tool, args));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => executor.LaunchAsync(Launch(911, "true", ("n99", 1)), default));
        Assert.IsType(expected, e);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task One_squeue_reports_each_runs_start_and_end_as_gpufleet_sees_them()
    {
        var (executor, tools) = Executor();
        var seen = await executor.ObserveAsync(default);

        Assert.Single(tools.CallsOf("squeue"));
        Assert.Empty(tools.CallsOf("sacct"));
        var byJob = seen.Events.ToLookup(e => e.JobId);
        // Only GpuFleet's jobs, and of each only its newest run: the older runs that record.sh left
        // from its first pass (e.g. 905 cancelled, then pending again) say nothing.
        Assert.Equal([901L, 902, 903, 904, 906, 907, 908, 909, 910, 912], byJob.Select(g => g.Key).Order());
        Assert.Equal([ExecutorEventKind.Started, ExecutorEventKind.TimedOut], byJob[901].Select(e => e.Kind));
        Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 3)], byJob[902].Select(e => (e.Kind, e.ExitCode)));
        Assert.Equal(["n01"], byJob[902].First().Nodes!);
        Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 0)], byJob[903].Select(e => (e.Kind, e.ExitCode)));
        Assert.Equal(["n02", "n03"], byJob[903].First().Nodes!);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796197216), byJob[903].First().At);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796197217), byJob[903].Last().At);
        Assert.Equal([ExecutorEventKind.Started], byJob[904].Select(e => e.Kind));
        Assert.Equal([ExecutorEventKind.Cancelled], byJob[906].Select(e => e.Kind));   // while pending: never started
        Assert.Equal(["n06", "n07"], byJob[907].Single().Nodes!);
        // Killed by the checkpoint signal it did not handle: 128 + 10, as a shell says.
        Assert.Equal((ExecutorEventKind.Finished, 138), (byJob[908].Last().Kind, byJob[908].Last().ExitCode));
        Assert.Contains("signal 10", byJob[908].Last().Detail);
        Assert.Equal([ExecutorEventKind.Started, ExecutorEventKind.NodeFailure], byJob[909].Select(e => e.Kind));
        // Refused by the controller after it was recorded (BadConstraints): its failure, not the job's.
        Assert.Equal((ExecutorEventKind.Failed, (int?)null), (byJob[912].Single().Kind, byJob[912].Single().ExitCode));
        Assert.Equal(seen.Events.OrderBy(e => e.At), seen.Events);

        // Runs: every live GpuFleet run, the heterogeneous one once; the pending one with Slurm's reason.
        Assert.Equal([(904L, "10970", "n04", null), (905, "10971", "", "PENDING (BeginTime)"), (907, "10973", "n06,n07", null), (910, "10978", "n08", null)],
            seen.Runs.OrderBy(r => r.JobId).Select(r => (r.JobId, r.ExternalId, string.Join(',', r.Nodes), r.Waiting)));
    }

    [Fact]
    public async Task A_heterogeneous_job_whose_components_start_a_second_apart_starts_at_the_earlier()
    {
        // Slurm stamps each component with its own clock second: here the second one (n07) a second earlier.
        var states = FakeSlurmTools.Recorded("squeue-states.out")
            .Replace("10974|10973|1|RUNNING|None|0|1796197228|", "10974|10973|1|RUNNING|None|0|1796197227|", StringComparison.Ordinal);
        var (executor, _) = Executor((tool, args) => tool == "squeue" && !args.Contains("-n") ? FakeSlurmTools.Ok(states) : RecordedCluster(tool, args));
        var started = (await executor.ObserveAsync(default)).Events.Single(e => e.JobId == 907);
        Assert.Equal((ExecutorEventKind.Started, DateTimeOffset.FromUnixTimeSeconds(1796197227)), (started.Kind, started.At));
    }

    [Theory]
    [InlineData("BeginTime", false)]
    [InlineData("Resources", false)]
    [InlineData("ReqNodeNotAvail, UnavailableNodes:n05", false)]
    [InlineData("QOSMaxGRESPerUser", true)]
    [InlineData("AssocGrpGRES", true)]
    [InlineData("Dependency", true)]
    [InlineData("JobHeldUser", true)]
    public async Task A_pending_run_says_whether_it_waits_on_itself_or_on_its_nodes(string reason, bool onItself)
    {
        var states = FakeSlurmTools.Recorded("squeue-states.out").Replace("|PENDING|BeginTime|", $"|PENDING|{reason}|", StringComparison.Ordinal);
        var (executor, _) = Executor((tool, args) => tool == "squeue" && !args.Contains("-n") ? FakeSlurmTools.Ok(states) : RecordedCluster(tool, args));
        var pending = (await executor.ObserveAsync(default)).Runs.Single(r => r.JobId == 905);
        Assert.Equal(($"PENDING ({reason})", onItself), (pending.Waiting, pending.WaitsOnItself));
    }

    [Fact]
    public async Task Each_start_and_end_is_reported_once()
    {
        var (executor, _) = Executor();
        var first = await executor.ObserveAsync(default);
        var second = await executor.ObserveAsync(default);
        Assert.NotEmpty(first.Events);
        Assert.Empty(second.Events);
        Assert.Equal(first.Runs.Select(r => (r.JobId, r.ExternalId, string.Join(',', r.Nodes))),
            second.Runs.Select(r => (r.JobId, r.ExternalId, string.Join(',', r.Nodes))));
    }

    [Fact]
    public async Task A_start_on_other_nodes_than_placed_says_so()
    {
        var (executor, _) = Executor((tool, args) => tool == "sbatch" ? FakeSlurmTools.Ok("10970\n") : RecordedCluster(tool, args));
        await executor.LaunchAsync(Launch(904, "sleep 240", ("n05", 2)), default);
        var started = (await executor.ObserveAsync(default)).Events.Single(e => e.JobId == 904);
        Assert.Equal("Slurm started it on n04, not n05 as placed (Slurm job 10970)", started.Detail);
    }

    [Fact]
    public async Task A_start_where_placed_says_nothing_of_it()
    {
        var (executor, _) = Executor((tool, args) => tool == "sbatch" ? FakeSlurmTools.Ok("10973\n") : RecordedCluster(tool, args));
        await executor.LaunchAsync(Launch(907, "sleep 240", ("n06", 8), ("n07", 4)), default);
        var started = (await executor.ObserveAsync(default)).Events.Single(e => e.JobId == 907);
        Assert.DoesNotContain("placed", started.Detail);
    }

    [Fact]
    public async Task A_run_the_controller_forgot_is_lost_when_accounting_is_not_kept_and_reported_once()
    {
        var (executor, tools) = Executor();
        await executor.LaunchAsync(Launch(42, "sleep 1", ("n01", 1)), default);   // Slurm job 20000, not in squeue's answer
        var seen = await executor.ObserveAsync(default);

        var lost = seen.Events.Single(e => e.JobId == 42);
        Assert.Equal(ExecutorEventKind.Lost, lost.Kind);
        Assert.Contains("Slurm job 20000 is no longer known", lost.Detail);
        Assert.Contains("accounting is not available (Slurm accounting storage is disabled)", lost.Detail);
        Assert.Equal(["-n", "-P", "-X", "--allusers", "-j", "20000", "-o", SlurmOutput.AccountingFormat], tools.CallsOf("sacct").Single());

        Assert.DoesNotContain((await executor.ObserveAsync(default)).Events, e => e.JobId == 42);
        Assert.Single(tools.CallsOf("sacct"));
    }

    [Fact]
    public async Task A_run_the_controller_forgot_ends_as_accounting_recorded_it()
    {
        var (executor, _) = Executor((tool, args) => tool == "sacct"
            ? FakeSlurmTools.Ok("20000|FAILED|3:0|1796197100|1796197160|n01|gpufleet-42\n")
            : RecordedCluster(tool, args));
        await executor.LaunchAsync(Launch(42, "exit 3", ("n01", 1)), default);
        var events = (await executor.ObserveAsync(default)).Events.Where(e => e.JobId == 42).ToList();
        Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 3)], events.Select(e => (e.Kind, e.ExitCode)));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796197160), events[1].At);
    }

    [Fact]
    public async Task A_run_is_not_lost_while_accounting_cannot_be_asked()
    {
        var accountingUp = false;
        var (executor, _) = Executor((tool, args) => tool == "sacct"
            ? accountingUp
                ? FakeSlurmTools.Ok("20000|COMPLETED|0:0|1796197100|1796197160|n01|gpufleet-42\n")
                : FakeSlurmTools.Error("sacct: error: Problem talking to the database: Connection refused")
            : RecordedCluster(tool, args));
        await executor.LaunchAsync(Launch(42, "true", ("n01", 1)), default);
        Assert.DoesNotContain((await executor.ObserveAsync(default)).Events, e => e.JobId == 42);
        accountingUp = true;
        Assert.Equal(ExecutorEventKind.Finished, (await executor.ObserveAsync(default)).Events.Last(e => e.JobId == 42).Kind);
    }

    [Fact]
    public async Task A_run_submitted_while_squeue_answers_is_not_taken_for_lost()
    {
        SlurmExecutor? executor = null;
        var (e, tools) = Executor((tool, args) =>
        {
            if (tool == "squeue" && !args.Contains("-n"))
                executor!.LaunchAsync(Launch(43, "true", ("n01", 1)), default).GetAwaiter().GetResult();
            return RecordedCluster(tool, args);
        });
        executor = e;
        Assert.DoesNotContain((await executor.ObserveAsync(default)).Events, ev => ev.JobId == 43);
        Assert.Empty(tools.CallsOf("sacct"));
    }

    [Fact]
    public async Task Two_installations_on_one_cluster_each_launch_see_adopt_and_cancel_only_their_own_runs()
    {
        // The recorded cluster, with 904 and 910 as installation "staging"'s runs: the rest stay the unnamed installation's.
        SlurmToolResult Shared(string tool, IReadOnlyList<string> args) => tool == "squeue" && !args.Contains("-n")
            ? FakeSlurmTools.Ok(FakeSlurmTools.Recorded("squeue-states.out").Replace("|gpufleet-904|", "|gpufleet-staging-904|").Replace("|gpufleet-910|", "|gpufleet-staging-910|"))
            : RecordedCluster(tool, args);
        var (staging, stagingTools) = Executor(Shared, new SlurmExecutorOptions(OutputDirectory: "/shared/logs", Installation: "staging"));
        var (unnamed, unnamedTools) = Executor(Shared);

        await staging.LaunchAsync(Launch(5, "true", ("n01", 1)), default);
        Assert.Equal(["-a", "-h", "-n", "gpufleet-staging-5", "-o", "%i"], stagingTools.CallsOf("squeue").Single());
        Assert.Equal(["-J", "gpufleet-staging-5"], stagingTools.CallsOf("sbatch").Single().Skip(1).Take(2));
        Assert.Contains("/shared/logs/gpufleet-staging-5.out", stagingTools.CallsOf("sbatch").Single());

        // Each sees its own runs only, under its own job ids (a new leader adopts what these list).
        var mine = await staging.ObserveAsync(default);
        Assert.Equal([(904L, "10970"), (910, "10978")], mine.Runs.Select(r => (r.JobId, r.ExternalId)).Order());
        // (5 too: submitted, and missing from the recorded list, it is lost.)
        Assert.Equal([5L, 904, 910], mine.Events.Select(e => e.JobId).Distinct().Order());
        var theirs = await unnamed.ObserveAsync(default);
        Assert.Equal([905L, 907], theirs.Runs.Select(r => r.JobId).Order());
        Assert.DoesNotContain(theirs.Events, e => e.JobId is 904 or 910);

        // The other installation's GPUs are held by others: staging's 904 on n04 for the unnamed one, its 907 on n06 and n07 for staging.
        var forStaging = (await staging.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);
        var forUnnamed = (await unnamed.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);
        Assert.Equal((0, 8, 4, 3), (forStaging["n04"].GpusHeldByOthers, forStaging["n06"].GpusHeldByOthers, forStaging["n07"].GpusHeldByOthers, forStaging["n08"].GpusHeldByOthers));
        Assert.Equal((2, 0, 0, 5), (forUnnamed["n04"].GpusHeldByOthers, forUnnamed["n06"].GpusHeldByOthers, forUnnamed["n07"].GpusHeldByOthers, forUnnamed["n08"].GpusHeldByOthers));

        // Cancelling job 907 in staging touches nothing of the unnamed installation's 907: staging has no such run.
        await staging.CancelAsync(907, default);
        Assert.Empty(stagingTools.CallsOf("scancel"));
        Assert.Equal(["-a", "-h", "-n", "gpufleet-staging-907", "-o", "%i"], stagingTools.CallsOf("squeue").Last());
        await unnamed.CancelAsync(904, default);
        Assert.Empty(unnamedTools.CallsOf("scancel"));
        await staging.CancelAsync(904, default);
        Assert.Equal(["10970"], stagingTools.CallsOf("scancel").Single());
    }

    [Fact]
    public async Task The_inventory_counts_gpus_that_others_hold_and_maps_drained_and_down_nodes()
    {
        var (executor, tools) = Executor();
        var nodes = (await executor.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);

        Assert.Equal(16, nodes.Count);
        Assert.Equal(["-a", "-h", "-N", "-O", SlurmOutput.NodeFormat], tools.CallsOf("sinfo").Single());
        // n08: 5 GPUs used, 2 of them by GpuFleet's 910, 3 by "train|big".
        Assert.Equal(new InventoryNode("n08", 8, null, InventoryNodeState.Up, 3), nodes["n08"]);
        // GpuFleet's own: 904 on n04, the heterogeneous 907 on n06 (8) and n07 (4).
        Assert.Equal(0, nodes["n04"].GpusHeldByOthers);
        Assert.Equal(0, nodes["n06"].GpusHeldByOthers);
        Assert.Equal(0, nodes["n07"].GpusHeldByOthers);
        Assert.Equal((InventoryNodeState.Drained, 5), (nodes["n12"].State, nodes["n12"].GpusHeldByOthers));
        Assert.Equal(InventoryNodeState.Drained, nodes["n05"].State);
        Assert.Equal(InventoryNodeState.Down, nodes["n13"].State);
        Assert.Equal(13, nodes.Values.Count(n => n.State == InventoryNodeState.Up));
    }

    [Fact]
    public async Task A_running_job_within_the_grace_of_its_limit_is_asked_to_checkpoint_once()
    {
        // 904 ends at its limit at ...516, 907 and 910 at ...528: with 520 s of grace at ...000 only 904 is asked.
        var (executor, tools) = Executor(options: new SlurmExecutorOptions(CheckpointGraceSeconds: 520),
            clock: new FixedClock(DateTimeOffset.FromUnixTimeSeconds(1796197000)));
        await executor.ObserveAsync(default);
        await executor.ObserveAsync(default);
        Assert.Equal(["--signal=USR1", "--full", "10970"], tools.CallsOf("scancel").Single());
    }

    [Fact]
    public async Task Without_grace_no_job_is_asked_to_checkpoint_before_its_limit()
    {
        var (executor, tools) = Executor(clock: new FixedClock(DateTimeOffset.FromUnixTimeSeconds(1796197515)));
        await executor.ObserveAsync(default);
        Assert.Empty(tools.CallsOf("scancel"));
    }

    [Fact]
    public async Task Cancel_finds_a_run_it_does_not_know_by_name_and_does_nothing_when_there_is_none()
    {
        var live = "10970\n";
        var (executor, tools) = Executor((tool, args) => tool == "squeue" && args.Contains("-n") ? FakeSlurmTools.Ok(live) : RecordedCluster(tool, args));
        await executor.CancelAsync(904, default);
        Assert.Equal(["-a", "-h", "-n", "gpufleet-904", "-o", "%i"], tools.CallsOf("squeue").Single());
        Assert.Equal(["10970"], tools.CallsOf("scancel").Single());

        live = "";
        await executor.CancelAsync(999, default);
        Assert.Single(tools.CallsOf("scancel"));
    }

    [Theory]
    [InlineData(ExecutorSignal.Checkpoint, "--signal=USR1")]
    [InlineData(ExecutorSignal.Terminate, "--signal=TERM")]
    public async Task A_signal_reaches_the_batch_script_and_all_its_processes(ExecutorSignal signal, string option)
    {
        var (executor, tools) = Executor();
        await executor.ObserveAsync(default);
        await executor.SignalAsync(904, signal, default);
        Assert.Equal([option, "--full", "10970"], tools.CallsOf("scancel").Single());
    }

    [Theory]
    [InlineData("scancel-signal-pending.err")]
    [InlineData("scancel-signal-finished.err")]
    public async Task A_signal_to_a_job_that_does_not_run_does_nothing(string recorded)
    {
        var (executor, _) = Executor((tool, args) => tool switch
        {
            "squeue" when args.Contains("-n") => FakeSlurmTools.Ok("10971\n"),
            "scancel" => FakeSlurmTools.Error(FakeSlurmTools.Recorded(recorded)),
            _ => RecordedCluster(tool, args),
        });
        await executor.SignalAsync(905, ExecutorSignal.Checkpoint, default);
    }

    [Fact]
    public async Task A_controller_that_does_not_answer_makes_observation_and_inventory_unreachable()
    {
        var (executor, _) = Executor((tool, _) => FakeSlurmTools.Error(FakeSlurmTools.Recorded("squeue-unreachable.err")));
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => executor.ObserveAsync(default));
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => executor.InventoryAsync(default));
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => executor.CancelAsync(1, default));
    }

    // States the local cluster cannot produce (no memory enforcement, no preemption), in squeue's format.
    [Theory]
    [InlineData("OUT_OF_MEMORY|OutOfMemory|0", ExecutorEventKind.OutOfMemory, null)]
    [InlineData("PREEMPTED|None|15", ExecutorEventKind.Cancelled, "preempted by Slurm")]
    [InlineData("DEADLINE|None|0", ExecutorEventKind.TimedOut, null)]
    [InlineData("BOOT_FAIL|None|0", ExecutorEventKind.Failed, null)]
    [InlineData("FAILED|JobLaunchFailure|256", ExecutorEventKind.Failed, "JobLaunchFailure")]
    [InlineData("FAILED|Prolog|0", ExecutorEventKind.Failed, null)]
    [InlineData("FAILED|NonZeroExitCode|512", ExecutorEventKind.Finished, null)]
    [InlineData("COMPLETED|None|0", ExecutorEventKind.Finished, null)]
    public void A_final_slurm_state_maps_to_an_outcome(string stateReasonStatus, ExecutorEventKind kind, string? detail)
    {
        var job = SlurmOutput.ParseQueue($"700|N/A|N/A|{stateReasonStatus}|1796197000|1796197100|gres:gpu:1|n01|gpufleet-7|").Single();
        var end = SlurmExecutor.EndOf(job);
        Assert.Equal(kind, end.Kind);
        if (detail is not null) Assert.Contains(detail, end.Detail);
    }
}
