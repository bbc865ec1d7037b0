using GpuFleet.Executors.Slurm;
using static GpuFleet.Executors.Tests.Slurm.LiveSlurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>
/// The Slurm executor through the real slurmrestd of the test Slurm (Debian 12: Slurm 22.05, v0.0.38, JWT).
/// Its jobs run on n13-n15 only (the executor's other tests use n01-n10; the server's share n11-n16, where
/// a job of theirs may hold all of n16 for a while). All run at once, so that the heterogeneous job's wait
/// for the backfill pass (up to 30 s) is the test's only long wait.
/// </summary>
[Trait("Category", "Slurm")]
public sealed class SlurmRestClusterTests
{
    private static SlurmExecutor NewRestExecutor()
    {
        var (url, tokenFile) = TestSlurm.Rest;
        return new SlurmExecutor(new SlurmExecutorOptions(), new SlurmRestOptions(url, "root", TokenFile: tokenFile));
    }

    [Fact]
    public async Task Jobs_launched_through_slurmrestd_run_end_with_their_exit_codes_and_are_cancelled_and_signalled()
    {
        await using var executor = NewRestExecutor();
        long ok = NewJobId(), failing = NewJobId(), cancelled = NewJobId(), signalled = NewJobId(), wide = NewJobId();
        var ready = TestFiles.Temp("trap-set");
        var launchOk = Launch(ok, "sleep 2", 60, ("n13", 1));
        await executor.LaunchAsync(launchOk, default);
        await executor.LaunchAsync(Launch(failing, "sleep 2; exit 3", 60, ("n14", 1)), default);
        await executor.LaunchAsync(Launch(cancelled, "sleep 300", 600, ("n13", 1)), default);
        // Saves its "checkpoint" on SIGUSR1 and ends with 0; the file says its trap is set.
        await executor.LaunchAsync(Launch(signalled, $"sh -c 'trap \"exit 0\" USR1; touch {ready}; while :; do sleep 1; done'", 600, ("n15", 1)), default);
        // Launched again, by this executor and by a new one (after a crash): still one run.
        await executor.LaunchAsync(launchOk, default);
        await using (var afterCrash = NewRestExecutor()) await afterCrash.LaunchAsync(launchOk, default);
        Assert.Single(TestSlurm.Runs(ExecutorLaunch.RunName(ok)));
        try
        {
            var seen = new List<ExecutorEvent>();
            await UntilAsync(executor, seen, s => File.Exists(ready) && new[] { ok, failing, cancelled, signalled }.All(j => s.Any(e => e.JobId == j)));
            // Uneven GPUs on two nodes: a heterogeneous job, launched once the others run (while it waits for
            // the backfill pass, ordinary jobs behind it wait too).
            await executor.LaunchAsync(Launch(wide, "sleep 2", 60, ("n14", 2), ("n15", 1)), default);
            await executor.CancelAsync(cancelled, default);
            await executor.SignalAsync(signalled, ExecutorSignal.Checkpoint, default);
            await UntilAsync(executor, seen, s => Ended(s, ok, failing, cancelled, signalled, wide));

            Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 0)], Outcome(seen, ok));
            Assert.Equal(["n13"], seen.First(e => e.JobId == ok).Nodes!);
            Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 3)], Outcome(seen, failing));
            Assert.Equal([ExecutorEventKind.Started, ExecutorEventKind.Cancelled], seen.Where(e => e.JobId == cancelled).Select(e => e.Kind));
            Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 0)], Outcome(seen, signalled));
            Assert.Equal([(ExecutorEventKind.Started, (int?)null), (ExecutorEventKind.Finished, 0)], Outcome(seen, wide));
            Assert.Equal(["n14", "n15"], seen.First(e => e.JobId == wide).Nodes!);
            Assert.DoesNotContain("placed", seen.First(e => e.JobId == wide).Detail);
            // Submitted without requeueing (v0.0.38 would requeue with "requeue": false).
            var run = TestSlurm.Tool("squeue", "-h", "-a", "--states=all", "-n", ExecutorLaunch.RunName(ok), "-o", "%i").Trim();
            Assert.Contains("Requeue=0", TestSlurm.Tool("scontrol", "show", "job", run));
        }
        finally
        {
            await executor.CancelAsync(cancelled, default);
            await executor.CancelAsync(signalled, default);
            await executor.CancelAsync(wide, default);
        }
    }

    [Fact]
    public async Task Nodes_are_listed_with_their_gpus()
    {
        await using var executor = NewRestExecutor();
        var nodes = (await executor.InventoryAsync(default)).Nodes;
        Assert.Equal(16, nodes.Count);
        Assert.All(nodes, n => Assert.Equal(8, n.Gpus));
        Assert.Contains(nodes, n => n.Name == "n13");
    }

    private static List<(ExecutorEventKind, int?)> Outcome(List<ExecutorEvent> seen, long job) =>
        [.. seen.Where(e => e.JobId == job).Select(e => (e.Kind, e.ExitCode))];
}
