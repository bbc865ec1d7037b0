using GpuFleet.Executors.Slurm;
using Xunit.Sdk;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>Executors on the test Slurm (<see cref="TestSlurm"/>), job ids no earlier run used, and waiting for what Slurm does.</summary>
internal static class LiveSlurm
{
    // Slurm lists finished jobs for 5 minutes: ids from the clock keep a run from seeing an earlier one's.
    private static long _nextJobId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 100;

    public static long NewJobId() => Interlocked.Increment(ref _nextJobId);

    public static SlurmExecutor NewExecutor() => new(new SlurmExecutorOptions(SlurmConf: TestSlurm.Conf));

    public static ExecutorLaunch Launch(long id, string? command, long timeLimitSeconds, params (string Node, int Gpus)[] nodes) =>
        new(id, "test", "tenant-a", command, timeLimitSeconds, [.. nodes.Select(n => new NodeGpus(n.Node, [.. Enumerable.Range(0, n.Gpus)]))]);

    /// <summary>
    /// Observes until <paramref name="done"/> holds for the events seen so far (collected into
    /// <paramref name="seen"/>). The guard only keeps a broken run from hanging: Slurm needs seconds.
    /// </summary>
    public static async Task UntilAsync(SlurmExecutor executor, List<ExecutorEvent> seen, Func<List<ExecutorEvent>, bool> done, int guardSeconds = 300)
    {
        var guard = DateTime.UtcNow.AddSeconds(guardSeconds);
        while (true)
        {
            seen.AddRange((await executor.ObserveAsync(default)).Events);
            if (done(seen)) return;
            if (DateTime.UtcNow > guard)
                throw new XunitException("Slurm did not get there; events seen: " + string.Join("; ", seen.Select(e => $"{e.JobId} {e.Kind} {e.ExitCode} {e.Detail}")));
            await Task.Delay(500);
        }
    }

    /// <summary>Whether <paramref name="seen"/> holds an end of each of <paramref name="jobs"/>.</summary>
    public static bool Ended(List<ExecutorEvent> seen, params long[] jobs) => jobs.All(j => seen.Any(e => e.JobId == j && e.Ends));
}
