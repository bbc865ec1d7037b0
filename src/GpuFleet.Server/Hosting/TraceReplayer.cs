using GpuFleet.Core.Workloads;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;
using Microsoft.Extensions.Hosting;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// Background load for the demo: submits a trace's jobs through the same path as the API (stored,
/// then taken up by the scheduler from its inbox), at their trace times divided by the time scale. Trace tenants are
/// mapped onto the tree's projects by a stable hash; GPU counts are multiplied by the GPU scale so that
/// a cluster-sized trace loads a national fleet.
/// </summary>
public sealed class TraceReplayer(ServerSettings settings, JobStore store, TimeProvider clock) : BackgroundService
{
    private readonly IReadOnlyList<TraceJob> _jobs = settings.Replay ?? [];
    private readonly string[] _projects = [.. settings.Tenants.Leaves.Select(t => t.Name)];
    private DateTimeOffset? _start;
    private int _next;

    /// <summary>Jobs submitted so far.</summary>
    public int Submitted => _next;

    /// <summary>Submits every job whose replay time has come (the loop calls this; tests may too).</summary>
    public async Task TickAsync()
    {
        // One tick at a time (the loop's and a test's): a tick counts its jobs submitted only after
        // their commit, and another tick meanwhile would submit them again.
        await _ticking.WaitAsync();
        try
        {
            await SubmitDueAsync();
        }
        finally
        {
            _ticking.Release();
        }
    }

    private readonly SemaphoreSlim _ticking = new(1, 1);

    private async Task SubmitDueAsync()
    {
        var now = clock.GetUtcNow();
        _start ??= now;
        var first = _jobs.Count > 0 ? _jobs[0].Spec.SubmitTime : 0;
        var due = new List<NewJob>();
        while (_next + due.Count < _jobs.Count && due.Count < MaxPerTransaction
               && _start.Value.AddSeconds((_jobs[_next + due.Count].Spec.SubmitTime - first) / settings.TimeScale) <= now)
        {
            var job = _jobs[_next + due.Count];
            var gpus = (int)Math.Min(settings.Fleet.TotalGpus, (long)job.Spec.Gpus * settings.ReplayGpuScale);
            var tenant = _projects.Length == 0 ? job.Spec.Tenant : _projects[StableHash(job.Spec.Tenant) % _projects.Length];
            due.Add(new NewJob($"replay-{job.Spec.Id}", tenant, gpus, job.Spec.Models, job.Spec.TimeLimitSeconds, 0, null,
                "replayed from the sample trace", Math.Min(job.RuntimeSeconds, job.Spec.TimeLimitSeconds)));
        }
        if (due.Count == 0) return;
        // Everything due in one transaction, as a batch submission stores it; counted as submitted once stored.
        await store.SubmitManyAsync(due, now);
        _next += due.Count;
    }

    // As many as a batch submission may carry.
    private const int MaxPerTransaction = GpuFleet.Server.Api.JobEndpoints.MaxBatch;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested && _next < _jobs.Count)
        {
            await TickAsync();
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // string.GetHashCode is salted per process; the demo should map tenants the same way every run.
    private static int StableHash(string s)
    {
        var h = 17;
        foreach (var ch in s) h = unchecked(h * 31 + ch);
        return h & int.MaxValue;
    }
}
