using GpuFleet.Server.Twin;

namespace GpuFleet.Server.Tests;

/// <summary>
/// A twin runner the test holds: each run reports half its progress, says it has started, and waits until
/// the test lets one run finish (or the run is cancelled). Runs then stay queued or running exactly as long
/// as the test wants, without waiting on a clock.
/// </summary>
internal sealed class GatedTwinRunner
{
    private readonly SemaphoreSlim _finish = new(0);

    /// <summary>Released once per run that has started and waits.</summary>
    public SemaphoreSlim Started { get; } = new(0);

    /// <summary>Lets the run that waits (or the next one to start) finish.</summary>
    public void FinishOne() => _finish.Release();

    /// <summary>The runner: see the class.</summary>
    public TwinResult Run(TwinRequest request, Action<double, string> progress, CancellationToken cancel)
    {
        progress(0.5, "halfway");
        Started.Release();
        _finish.Wait(cancel);
        return new TwinResult("{}\n", [], [], new Dictionary<string, double[]>(), 1);
    }

    /// <summary>Waits (10 s at most, a bound rather than a timing) until a run has started; false if none did.</summary>
    public Task<bool> StartedAsync() => Started.WaitAsync(TimeSpan.FromSeconds(10));
}
