using GpuFleet.Executors.Local;

namespace GpuFleet.Executors.Tests;

/// <summary>The local executor with real processes: <c>/bin/sh</c>, <c>sleep</c>, and fake <c>nvidia-smi</c> scripts.</summary>
[Trait("Category", "Executor")]
public sealed class LocalExecutorTests
{
    [Fact]
    public async Task A_job_sees_its_gpus_in_order_and_its_id_writes_its_output_to_its_log_and_not_the_servers_secrets()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        Directory.CreateDirectory(local.Options.LogDirectory);
        File.WriteAllText(local.Executor.LogPath(id), "earlier\n");
        // The server holds its admin token in its environment; the job must not inherit it.
        Environment.SetEnvironmentVariable("GPUFLEET_ADMIN_TOKEN", "server-secret");
        try
        {
            await local.LaunchAsync(id, "echo \"gpus=$CUDA_VISIBLE_DEVICES job=$GPUFLEET_JOB_ID order=$CUDA_DEVICE_ORDER token=${GPUFLEET_ADMIN_TOKEN:-none} args=$#\"; echo oops >&2",
                gpus: [3, 0, 2]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GPUFLEET_ADMIN_TOKEN", null);
        }
        var started = await local.WaitForAsync(id, ExecutorEventKind.Started);
        Assert.Equal([LocalHarness.Node], started.Nodes);
        var finished = await local.WaitForAsync(id, ExecutorEventKind.Finished);
        Assert.Equal(0, finished.ExitCode);
        Assert.Equal($"earlier\ngpus=3,0,2 job={id} order=PCI_BUS_ID token=none args=0\noops\n", local.Log(id));
        Assert.Equal(1, local.Seen.Count(e => e.Kind == ExecutorEventKind.Started));
    }

    [Theory]
    [InlineData("exit 3", ExecutorEventKind.Finished, 3, "exit code 3")]
    [InlineData("true", ExecutorEventKind.Finished, 0, "exit code 0")]
    [InlineData("no-such-command-anywhere", ExecutorEventKind.Finished, 127, "exit code 127")]
    [InlineData("kill -KILL $$", ExecutorEventKind.Failed, 137, "killed by signal 9")]
    [InlineData("sh -c 'kill -SEGV $$'", ExecutorEventKind.Failed, 139, "killed by signal 11")]
    public async Task The_end_of_a_job_is_reported_with_its_exit_code_or_signal(string command, ExecutorEventKind kind, int code, string detail)
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, command);
        var end = await local.WaitForEndAsync(id);
        Assert.Equal((kind, code, detail), (end.Kind, end.ExitCode, end.Detail));
        Assert.Empty((await local.ObserveAsync()).Runs);
    }

    [Fact]
    public async Task Cancel_kills_the_whole_process_group_background_children_too()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "sleep 300 & sleep 300");
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        List<(int Pid, string Name)> processes = [];
        await LocalHarness.EventuallyAsync(() => (processes = Processes.OfJob(id)).Count(p => p.Name == "sleep") == 2, "both sleeps start");
        Assert.Equal(LocalHarness.Id(Assert.Single(local.Runs).JobId), LocalHarness.Id(id));

        await local.Executor.CancelAsync(id, CancellationToken.None);
        var cancelled = await local.WaitForAsync(id, ExecutorEventKind.Cancelled);
        // Reported only once nothing of the job runs: the shell and both sleeps are gone.
        Assert.All(processes, p => Assert.False(Processes.Runs(p.Pid), $"{p.Name} ({p.Pid}) still runs after the cancel was reported"));
        Assert.Empty((await local.ObserveAsync()).Runs);
        Assert.Single(local.Seen, e => e.Ends);
    }

    [Fact]
    public async Task Background_processes_left_by_a_finished_job_are_ended_with_it()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "sleep 300 & exit 0");
        var end = await local.WaitForAsync(id, ExecutorEventKind.Finished);
        Assert.Equal(0, end.ExitCode);
        Assert.Empty(Processes.OfJob(id));
    }

    [Fact]
    public async Task A_second_launch_of_a_job_that_runs_or_ran_here_starts_nothing()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await Task.WhenAll(local.LaunchAsync(id, "sleep 300"), local.LaunchAsync(id, "sleep 300"));
        await local.LaunchAsync(id, "sleep 300");
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        await LocalHarness.EventuallyAsync(() => Processes.OfJob(id).Any(p => p.Name == "sleep"), "the sleep starts");
        Assert.Single(Processes.OfJob(id), p => p.Name == "sleep");
        Assert.Single((await local.ObserveAsync()).Runs);
        Assert.Single(local.Seen, e => e.Kind == ExecutorEventKind.Started);

        await local.Executor.CancelAsync(id, CancellationToken.None);
        await local.WaitForAsync(id, ExecutorEventKind.Cancelled);
        await local.LaunchAsync(id, "sleep 300");
        await local.ObserveAsync();
        Assert.Empty(local.Runs);
        Assert.Single(local.Seen, e => e.Kind == ExecutorEventKind.Started);
        Assert.Empty(Processes.OfJob(id));
    }

    [Fact]
    public async Task A_job_past_its_time_limit_is_stopped_and_reported_timed_out_even_when_it_ignores_sigterm()
    {
        await using var local = new LocalHarness();
        var polite = LocalHarness.NewJobId();
        var stubborn = LocalHarness.NewJobId();
        await local.LaunchAsync(polite, "sleep 300", limit: 1);
        // An ignored SIGTERM is inherited by the sleeps: only SIGKILL, after the grace time, ends them.
        await local.LaunchAsync(stubborn, "trap '' TERM; while :; do sleep 1; done", limit: 1);
        var timedOut = await local.WaitForAsync(polite, ExecutorEventKind.TimedOut);
        Assert.Equal("stopped at its time limit of 1 s", timedOut.Detail);
        await local.WaitForAsync(stubborn, ExecutorEventKind.TimedOut);
        Assert.Empty(Processes.OfJob(polite));
        Assert.Empty(Processes.OfJob(stubborn));
    }

    [Fact]
    public async Task A_job_without_a_command_runs_the_placeholder_for_its_run_time_or_up_to_its_limit()
    {
        await using var local = new LocalHarness();
        var brief = LocalHarness.NewJobId();
        var endless = LocalHarness.NewJobId();
        await local.LaunchAsync(brief, null, runtime: 1);
        await local.LaunchAsync(endless, null, limit: 1);
        await LocalHarness.EventuallyAsync(() => Processes.OfJob(brief).Any(p => p.Name == "sleep") || local.Seen.Any(e => e.JobId == brief && e.Ends), "the placeholder sleeps");
        Assert.Equal(0, (await local.WaitForAsync(brief, ExecutorEventKind.Finished)).ExitCode);
        await local.WaitForAsync(endless, ExecutorEventKind.TimedOut);
    }

    [Fact]
    public async Task A_checkpoint_signal_reaches_the_job_and_leaves_its_shell_running()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        // The command is two programs: a job that saves on SIGUSR1, then a line after it. The job's own shell must outlive the signal.
        await local.LaunchAsync(id, "sh -c 'trap \"echo saved; exit 5\" USR1; echo ready; sleep 300 & wait'; echo \"then $?\"");
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        await LocalHarness.EventuallyAsync(() => File.Exists(local.Executor.LogPath(id)) && local.Log(id).Contains("ready", StringComparison.Ordinal), "the job is ready");
        await local.Executor.SignalAsync(id, ExecutorSignal.Checkpoint, CancellationToken.None);
        var end = await local.WaitForAsync(id, ExecutorEventKind.Finished);
        Assert.Equal(0, end.ExitCode);
        Assert.Equal("ready\nsaved\nthen 5\n", local.Log(id));
    }

    [Fact]
    public async Task A_terminate_signal_stops_the_job()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "sleep 300");
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        await local.Executor.SignalAsync(id, ExecutorSignal.Terminate, CancellationToken.None);
        Assert.Equal("killed by signal 15", (await local.WaitForAsync(id, ExecutorEventKind.Failed)).Detail);
        await local.Executor.SignalAsync(id, ExecutorSignal.Terminate, CancellationToken.None);
        await local.Executor.CancelAsync(id, CancellationToken.None);
    }

    [Theory]
    [InlineData("other-node", 0, "placed on 'other-node', but this local executor runs jobs on 'test-node' only")]
    [InlineData(LocalHarness.Node, 4, "GPU 4 of test-node, which has GPUs 0,1,2,3 (virtual)")]
    [InlineData(LocalHarness.Node, -1, "GPU -1 of test-node")]
    public async Task A_launch_on_another_node_or_on_gpus_this_machine_lacks_is_rejected(string node, int gpu, string message)
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => local.Executor.LaunchAsync(LocalHarness.Launch(id, "true", [gpu], node: node), CancellationToken.None));
        Assert.Contains(message, e.Message);
        Assert.Empty((await local.ObserveAsync()).Events);
        Assert.False(File.Exists(local.Executor.LogPath(id)));
    }

    [Fact]
    public async Task A_launch_naming_this_node_and_another_is_rejected()
    {
        await using var local = new LocalHarness();
        var launch = LocalHarness.Launch(LocalHarness.NewJobId(), "true") with { Nodes = [new NodeGpus(LocalHarness.Node, [0]), new NodeGpus("n2", [0])] };
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => local.Executor.LaunchAsync(launch, CancellationToken.None));
        Assert.Contains("'n2'", e.Message);
    }

    [Fact]
    public async Task Without_nvidia_smi_the_machine_offers_its_virtual_gpus()
    {
        await using var local = new LocalHarness();
        var node = Assert.Single((await local.Executor.InventoryAsync(CancellationToken.None)).Nodes);
        // The machine's cores and memory, as this process may use them.
        Assert.Equal(new InventoryNode(LocalHarness.Node, 4, "virtual", InventoryNodeState.Up, Cpus: Environment.ProcessorCount, MemoryGb: node.MemoryGb), node);
        Assert.InRange(node.MemoryGb, 1, 1 << 20);
        var telemetry = await local.Executor.TelemetryAsync(CancellationToken.None);
        Assert.True(telemetry.Virtual);
        Assert.Equal([0, 1, 2, 3], telemetry.Gpus.Select(g => g.Index));
        Assert.Contains("/nonexistent/nvidia-smi", Assert.Single(telemetry.Problems));
    }

    [Fact]
    public async Task The_machines_gpus_come_from_nvidia_smi_asked_the_documented_query()
    {
        var smi = FakeNvidiaSmi("h100-80gb-hbm3.csv");
        await using var local = new LocalHarness(o => o with { NvidiaSmiPath = smi });
        var node = Assert.Single((await local.Executor.InventoryAsync(CancellationToken.None)).Nodes);
        Assert.Equal(new InventoryNode(LocalHarness.Node, 8, "NVIDIA H100 80GB HBM3", InventoryNodeState.Up, Cpus: Environment.ProcessorCount, MemoryGb: node.MemoryGb), node);
        var telemetry = await local.Executor.TelemetryAsync(CancellationToken.None);
        Assert.False(telemetry.Virtual);
        Assert.Equal(new GpuTelemetry(2, "NVIDIA H100 80GB HBM3", 81559, 52, 642.77, 97), telemetry.Gpus[2]);

        // GPU 7 exists here, GPU 8 does not.
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "echo $CUDA_VISIBLE_DEVICES", gpus: [7]);
        await local.WaitForAsync(id, ExecutorEventKind.Finished);
        Assert.Equal("7\n", local.Log(id));
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => local.LaunchAsync(LocalHarness.NewJobId(), "true", gpus: [8]));
        Assert.Contains("GPUs 0,1,2,3,4,5,6,7", e.Message);
    }

    [Fact]
    public async Task Nvidia_smi_failing_after_it_found_gpus_is_an_unreachable_cluster_not_virtual_gpus()
    {
        var smi = FakeNvidiaSmi("a100-sxm4-80gb.csv");
        await using var local = new LocalHarness(o => o with { NvidiaSmiPath = smi });
        Assert.Equal(8, Assert.Single((await local.Executor.InventoryAsync(CancellationToken.None)).Nodes).Gpus);
        File.WriteAllText(smi, "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\"\nexit 9\n");
        var e = await Assert.ThrowsAsync<ExecutorUnreachableException>(() => local.Executor.InventoryAsync(CancellationToken.None));
        Assert.Contains("exited with 9: NVIDIA-SMI has failed", e.Message);
    }

    [Fact]
    public async Task A_job_that_runs_on_after_a_server_restart_is_found_again_watched_and_cancelled()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "sleep 300 & sleep 300");
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        var group = Assert.Single(local.Runs).ExternalId;
        await LocalHarness.EventuallyAsync(() => Processes.OfJob(id).Count(p => p.Name == "sleep") == 2, "both sleeps start");

        await local.RestartAsync();
        var run = Assert.Single((await local.ObserveAsync()).Runs);
        Assert.Equal((id, group, LocalHarness.Node), (run.JobId, run.ExternalId, Assert.Single(run.Nodes)));
        await local.LaunchAsync(id, "sleep 300");
        Assert.Equal(2, Processes.OfJob(id).Count(p => p.Name == "sleep"));
        Assert.Empty((await local.ObserveAsync()).Events);

        var processes = Processes.OfJob(id);
        await local.Executor.CancelAsync(id, CancellationToken.None);
        await local.WaitForAsync(id, ExecutorEventKind.Cancelled);
        Assert.All(processes, p => Assert.False(Processes.Runs(p.Pid), $"{p.Name} ({p.Pid}) still runs"));
    }

    [Fact]
    public async Task A_job_that_ended_while_no_server_watched_is_reported_with_its_exit_code_after_the_restart()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "sleep 1; exit 3");
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        await local.Executor.DisposeAsync();
        await LocalHarness.EventuallyAsync(() => Processes.OfJob(id).Count == 0, "the job ends");

        await local.RestartAsync();
        var end = await local.WaitForEndAsync(id);
        Assert.Equal((ExecutorEventKind.Finished, 3), (end.Kind, end.ExitCode));
        // Reported once: the next executor on the directory has nothing to say about it.
        await local.RestartAsync();
        Assert.Empty((await local.ObserveAsync()).Events);
    }

    [Fact]
    public async Task Two_installations_on_one_log_directory_keep_their_runs_logs_and_exit_statuses_apart()
    {
        await using var unnamed = new LocalHarness();
        await using var lab = new LocalHarness(_ => unnamed.Options with { Installation = "lab" });
        long running = LocalHarness.NewJobId(), ended = LocalHarness.NewJobId();
        // The same job id in both: two runs, two logs.
        await unnamed.LaunchAsync(running, "echo unnamed; sleep 300");
        await lab.LaunchAsync(running, "echo lab; sleep 300");
        await unnamed.WaitForAsync(running, ExecutorEventKind.Started);
        await lab.WaitForAsync(running, ExecutorEventKind.Started);
        Assert.Equal($"lab-{running}.log", Path.GetFileName(lab.Executor.LogPath(running)));
        Assert.Equal($"{running}.log", Path.GetFileName(unnamed.Executor.LogPath(running)));
        await LocalHarness.EventuallyAsync(() => File.Exists(lab.Executor.LogPath(running)) && lab.Log(running) == "lab\n" && unnamed.Log(running) == "unnamed\n", "both write their logs");
        // One of the unnamed installation's jobs ends while no server of it watches: its exit status waits in the directory.
        await unnamed.LaunchAsync(ended, "sleep 1; exit 3");
        await unnamed.WaitForAsync(ended, ExecutorEventKind.Started);
        await unnamed.Executor.DisposeAsync();
        await LocalHarness.EventuallyAsync(() => Processes.OfJob(ended).Count == 0, "the job ends");

        // A new executor of lab on the directory takes up lab's run alone, and no exit status of the other's.
        await lab.RestartAsync();
        var runs = (await lab.ObserveAsync()).Runs;
        Assert.Equal([running], runs.Select(r => r.JobId));
        Assert.Empty(lab.Seen);
        var labGroup = runs.Single().ExternalId;
        Assert.Equal(2, Processes.OfJob(running).Count(p => p.Name == "sleep"));   // GPUFLEET_JOB_ID is the same in both
        // Cancelling it in lab leaves the other installation's job of the same id running.
        await lab.Executor.CancelAsync(running, CancellationToken.None);
        await lab.WaitForAsync(running, ExecutorEventKind.Cancelled);
        await LocalHarness.EventuallyAsync(() => Processes.OfJob(running).Count(p => p.Name == "sleep") == 1, "lab's sleep ends");

        // The unnamed installation's next executor finds its run and its exit status, which lab left alone.
        await unnamed.RestartAsync();
        var theirs = Assert.Single((await unnamed.ObserveAsync()).Runs);
        Assert.Equal(running, theirs.JobId);
        Assert.NotEqual(labGroup, theirs.ExternalId);
        var end = await unnamed.WaitForEndAsync(ended);
        Assert.Equal((ExecutorEventKind.Finished, 3), (end.Kind, end.ExitCode));
    }

    [Fact]
    public async Task A_job_past_its_time_limit_while_no_server_watched_is_stopped_after_the_restart()
    {
        await using var local = new LocalHarness();
        var id = LocalHarness.NewJobId();
        await local.LaunchAsync(id, "sleep 300", limit: 2);
        await local.WaitForAsync(id, ExecutorEventKind.Started);
        await local.RestartAsync();
        Assert.Equal("stopped at its time limit", (await local.WaitForAsync(id, ExecutorEventKind.TimedOut)).Detail);
        Assert.Empty(Processes.OfJob(id));
    }

    // An executable that answers as nvidia-smi would, and only to the query the executor is meant to ask.
    private static string FakeNvidiaSmi(string sample)
    {
        var path = TestFiles.Temp("nvidia-smi");
        File.WriteAllText(path, $$"""
            #!/bin/sh
            [ "$#" = 2 ] && [ "$1" = "--query-gpu=index,name,memory.total,temperature.gpu,power.draw,utilization.gpu" ] && [ "$2" = "--format=csv,noheader,nounits" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
            cat '{{NvidiaSmiQueryTests.Sample(sample)}}'

            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
