namespace GpuFleet.Server.Execution;

/// <summary>
/// Runs nothing: a placed job "runs" for its declared run time (or, without one, a share of its time
/// limit drawn from its id, so the same job always takes as long), divided by the time scale, then
/// reports itself finished. Lets the whole service work on a machine with no GPU.
/// </summary>
public sealed class SimulatedExecutor(double timeScale) : IJobExecutor
{
    private readonly Dictionary<long, DateTimeOffset> _ends = [];

    /// <summary>Starts a job at <paramref name="now"/>.</summary>
    public void Start(long id, long timeLimitSeconds, long? runtimeSeconds, long startDelaySeconds, DateTimeOffset now)
    {
        var run = runtimeSeconds ?? (long)(timeLimitSeconds * (0.2 + 0.8 * new Random(unchecked((int)id)).NextDouble()));
        run = Math.Clamp(run, 1, timeLimitSeconds) + startDelaySeconds;
        _ends[id] = now + TimeSpan.FromSeconds(run / Math.Max(timeScale, 1e-9));
    }

    /// <summary>Stops a job (cancelled or evicted); false when it was not running here.</summary>
    public bool Stop(long id) => _ends.Remove(id);

    /// <summary>Jobs whose run ended by <paramref name="now"/>, removed from the executor.</summary>
    public IReadOnlyList<long> Finished(DateTimeOffset now)
    {
        var done = _ends.Where(e => e.Value <= now).Select(e => e.Key).Order().ToList();
        foreach (var id in done) _ends.Remove(id);
        return done;
    }

    /// <summary>Jobs running here.</summary>
    public int Running => _ends.Count;
}
