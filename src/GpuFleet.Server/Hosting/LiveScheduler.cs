using System.Collections.Concurrent;
using System.Diagnostics;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Execution;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// The scheduling loop of the live service: the same core as the twin, on the real clock. The API
/// commits a job to the database first and only then hands it here; each cycle takes new and
/// cancelled jobs, ends what the executor finished, runs the core and writes its decisions back
/// (a placement is committed as a checked Pending → Running change before the executor starts it).
/// On start it takes up every pending job again and requeues running ones, whose executor was lost
/// with the previous process.
/// </summary>
public sealed class LiveScheduler(ServerSettings settings, SqliteJobStore store, TimeProvider clock, FleetMetrics metrics, ILogger<LiveScheduler> log) : BackgroundService
{
    private readonly object _gate = new();
    private readonly FleetScheduler _core = new(settings.Fleet, new SchedulerOptions { Policy = settings.Policy, Tenants = settings.Tenants });
    private readonly SimulatedExecutor _executor = new(settings.TimeScale);
    private readonly ConcurrentQueue<StoredJob> _arrivals = new();
    private readonly ConcurrentQueue<long> _cancels = new();
    // Jobs handed to the core, with what the executor needs to start them (so placing a job reads no
    // database). A job stored before recovery read the database arrives twice: the second is ignored.
    private readonly Dictionary<long, NewJob> _known = [];
    private bool _recovered;

    /// <summary>Cycles run so far.</summary>
    public long Cycles { get; private set; }
    /// <summary>Duration of the last cycle.</summary>
    public double LastCycleMs { get; private set; }

    /// <summary>Hands a stored job to the scheduler (it is considered in the next cycle).</summary>
    public void Enqueue(StoredJob job) => _arrivals.Enqueue(job);

    /// <summary>Removes a cancelled job from the scheduler and the executor in the next cycle.</summary>
    public void Cancel(long id) => _cancels.Enqueue(id);

    /// <summary>Reads the core under the loop's lock (for views of tenants and sites).</summary>
    public T Read<T>(Func<FleetScheduler, T> read)
    {
        lock (_gate) return read(_core);
    }

    /// <summary>Why a pending job waits and when it should start, or null.</summary>
    public PendingExplanation? Explain(long id)
    {
        lock (_gate) return _core.Explain(id);
    }

    /// <summary>Runs one cycle now (the loop calls this; tests may too).</summary>
    public void Tick()
    {
        lock (_gate)
        {
            var watch = Stopwatch.StartNew();
            var at = clock.GetUtcNow();
            var now = settings.ToClock(at);
            if (!_recovered) Recover(now, at);
            while (_cancels.TryDequeue(out var id))
            {
                _core.End(id, now);
                _executor.Stop(id);
                _known.Remove(id);
            }
            while (_arrivals.TryDequeue(out var job)) Admit(job, at);
            var finished = _executor.Finished(at);
            foreach (var id in finished)
            {
                _core.End(id, now);
                _known.Remove(id);
            }
            store.TransitionMany([.. finished.Select(id => new StateChange(id, JobState.Running, JobState.Succeeded, "ended"))], at);
            var cycle = _core.RunCycle(now);
            foreach (var p in cycle.Preemptions) _executor.Stop(p.VictimJobId);
            // Each phase is one transaction: a cycle that starts 500 jobs syncs the database once, not 500 times.
            store.TransitionMany([.. cycle.Preemptions.Select(p => new StateChange(p.VictimJobId, JobState.Running, JobState.Pending,
                $"preempted ({p.Kind.ToString().ToLowerInvariant()}) for job {p.PreemptorJobId} of {p.PreemptorTenant}"))], at);
            var changes = cycle.Placements.Select(p => new StateChange(p.JobId, JobState.Pending, JobState.Running, "placed",
                $"{settings.Fleet.Sites[p.Site].Name}/{settings.Fleet.Models[p.Model].Name}: nodes {string.Join(",", p.Gpus.Select(g => g.Node))}",
                settings.Fleet.Sites[p.Site].Name, settings.Fleet.Models[p.Model].Name)).ToList();
            var applied = store.TransitionMany(changes, at);
            for (var i = 0; i < cycle.Placements.Count; i++)
            {
                var p = cycle.Placements[i];
                if (!applied[i] || !_known.TryGetValue(p.JobId, out var job))
                {
                    _core.End(p.JobId, now); // cancelled between submission to the core and placement
                    _known.Remove(p.JobId);
                    continue;
                }
                _executor.Start(p.JobId, job.TimeLimitSeconds, job.RuntimeSeconds, p.StartDelaySeconds, at);
            }
            Cycles++;
            LastCycleMs = watch.Elapsed.TotalMilliseconds;
            metrics.CycleSeconds.Observe(watch.Elapsed.TotalSeconds);
            metrics.Placements.Inc(cycle.Placements.Count);
            metrics.Preemptions.Inc(cycle.Preemptions.Count);
            metrics.Pending.Set(_core.PendingCount);
            metrics.Running.Set(_core.RunningCount);
            var busy = 0;
            foreach (var b in _core.BusyByPool) busy += b;
            metrics.BusyGpus.Set(busy);
            metrics.Utilization.Set((double)busy / settings.Fleet.TotalGpus);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Tick();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "scheduling cycle failed");
            }
            try
            {
                await Task.Delay(settings.CycleInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Recover(long now, DateTimeOffset at)
    {
        _recovered = true;
        var requeued = 0;
        foreach (var job in store.Active())
        {
            if (job.State == JobState.Running)
            {
                store.Transition(job.Id, JobState.Running, JobState.Pending, at, "requeued: the server restarted and its executor's run was lost");
                requeued++;
            }
            Admit(job, at);
        }
        log.LogInformation("recovered {Pending} pending jobs, requeued {Requeued} that were running at {Now}", _core.PendingCount, requeued, now);
    }

    private void Admit(StoredJob job, DateTimeOffset at)
    {
        if (!_known.TryAdd(job.Id, job.Spec)) return;
        var result = _core.Submit(Spec(job));
        if (result.Accepted) return;
        _known.Remove(job.Id);
        store.Transition(job.Id, JobState.Pending, JobState.Failed, at, result.Error);
    }

    private JobSpec Spec(StoredJob job) =>
        new(job.Id, job.Tenant, job.Spec.Gpus, job.Spec.Models, TopologyNeed.Site, job.Spec.TimeLimitSeconds, job.Spec.Priority, settings.ToClock(job.SubmittedAt))
        {
            PriorityClass = job.Spec.PriorityClass,
        };
}
