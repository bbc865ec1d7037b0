using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Execution;

/// <summary>
/// Runs nothing, on any clock: a launched job "runs" for the work it has left, then ends. The twin
/// drives it on virtual time and the live service on the real clock, so both execute alike.
/// <para>Worked example — a job with 5,000 s of work, a 3,600 s limit and hourly checkpoints is placed
/// at t=0 after a 30 s grace, its 100 GB of data 40 s away: work starts at t=70 and, as 5,000 s &gt;
/// 3,600 s, it will time out at t=3,630 (grace + limit). Evicted at t=2,000 instead, it ran 1,930 s
/// and keeps one checkpoint: 5,000 − 3,600·⌊1,930/3,600⌋ = 5,000 s left (nothing saved); evicted at
/// t=3,700 it would keep 3,600 s of work, leaving 1,400 s for its next placement.</para>
/// <para>A node that fails (<see cref="NodeFailed"/>) stops every run on it as an eviction would: each
/// keeps the work up to its last checkpoint, and the rest is reported as lost.</para>
/// With <c>timeScale</c> k &gt; 1 every duration passes k times faster (a demo on the real clock);
/// the twin runs at 1, where every figure is exact.
/// </summary>
public sealed class SimulatedExecutor : IJobExecutor
{
    private readonly Fleet _fleet;
    private readonly Func<JobSpec, long> _runtimeOf;
    private readonly double _timeScale;
    private readonly Dictionary<long, Run> _runs = [];
    // Ends by (time, job id); an end planned before an eviction or a cancel is stale (its version moved on).
    private readonly PriorityQueue<(long JobId, int Version), (long Time, long JobId)> _ends = new();
    // Jobs running on each node, so that a node's failure finds its runs without a scan of all of them.
    private readonly List<long>?[] _onNode;
    private int _running;

    /// <summary>An executor whose jobs run <paramref name="runtimeOf"/> seconds of work each (at least 1).</summary>
    public SimulatedExecutor(Fleet fleet, Func<JobSpec, long> runtimeOf, double timeScale = 1)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(runtimeOf);
        if (!(timeScale > 0) || double.IsInfinity(timeScale)) throw new ArgumentOutOfRangeException(nameof(timeScale), "must be positive");
        _fleet = fleet;
        _runtimeOf = runtimeOf;
        _timeScale = timeScale;
        _onNode = new List<long>?[fleet.NodeCount];
    }

    /// <inheritdoc />
    public int Running => _running;

    /// <inheritdoc />
    /// <remarks>
    /// The end planned for a job before it was evicted still wakes the clock, though it ends nothing: a
    /// clock that jumps from event to event has always stopped there, and the scheduler's timers (the
    /// preemption period, fair-share decay) make decisions depend on the instants it runs at, so the
    /// twin's reports stay comparable across versions. A cancelled job's planned end wakes nobody.
    /// </remarks>
    public long? NextWake
    {
        get
        {
            while (_ends.TryPeek(out var e, out var at))
            {
                if (_runs.ContainsKey(e.JobId)) return at.Time;
                _ends.Dequeue();
            }
            return null;
        }
    }

    /// <summary>The plan of a job's current (or last) placement; null for a job this executor does not hold.</summary>
    public RunPlan? Plan(long jobId) => _runs.TryGetValue(jobId, out var run) ? run.Plan : null;

    /// <inheritdoc />
    public void Launch(JobSpec job, PlacementDecision placement, long now)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(placement);
        if (!_runs.TryGetValue(job.Id, out var run))
        {
            run = new Run { Remaining = Math.Max(1, _runtimeOf(job)), Checkpoint = job.CheckpointIntervalSeconds };
            _runs.Add(job.Id, run);
        }
        if (run.Running) throw new InvalidOperationException($"job {job.Id} is already running");
        // Moving the job's data to where it was placed delays its work, not its hold on the GPUs. Data
        // that cannot arrive within the limit (no route, or too much of it) leaves the run to time out.
        var limit = job.TimeLimitSeconds;
        var transfer = job.DataSite is { } data
            ? (long)Math.Ceiling(Math.Min(_fleet.TransferSeconds(_fleet.SiteIndex(data), placement.Site, job.DataGb), limit))
            : 0;
        var work = Math.Min(run.Remaining, limit);
        var workStart = now + Scaled(placement.StartDelaySeconds + transfer);
        // The limit counts from the placement's start (after the grace), transfer included, as a batch system's would.
        var done = workStart + Math.Max(1, Scaled(work));
        var cut = now + Scaled(placement.StartDelaySeconds + limit);
        run.Plan = new RunPlan(now, workStart, Math.Min(done, cut), run.Remaining > limit || done > cut);
        run.Nodes = [.. placement.Gpus.Select(g => g.Node).Distinct()];
        foreach (var node in run.Nodes) (_onNode[node] ??= []).Add(job.Id);
        run.Running = true;
        run.Version++;
        _running++;
        _ends.Enqueue((job.Id, run.Version), (run.Plan.End, job.Id));
    }

    /// <inheritdoc />
    public bool Evict(long jobId, long now)
    {
        if (!_runs.TryGetValue(jobId, out var run) || !run.Running) return false;
        StopKeepingCheckpoint(jobId, run, now);
        return true;
    }

    /// <summary>
    /// Node <paramref name="node"/> failed at <paramref name="now"/>: every run on it is lost, a gang's
    /// included (its other nodes stop too). Each stops as an eviction does, keeping the work up to its last
    /// checkpoint for its next placement, and is reported once, in order of job id. The caller queues them again.
    /// </summary>
    public IReadOnlyList<LostRun> NodeFailed(int node, long now)
    {
        if (_onNode[node] is not { Count: > 0 } here) return [];
        long[] ids = [.. here.Order()];
        var lost = new LostRun[ids.Length];
        for (var i = 0; i < ids.Length; i++) lost[i] = new LostRun(ids[i], now, StopKeepingCheckpoint(ids[i], _runs[ids[i]], now));
        return lost;
    }

    // The work up to the last checkpoint is kept; the rest is lost. Returns the work lost, in seconds.
    private long StopKeepingCheckpoint(long jobId, Run run, long now)
    {
        var ran = (long)(Math.Max(0, now - run.Plan!.WorkStart) * _timeScale);
        var saved = run.Checkpoint > 0 ? ran / run.Checkpoint * run.Checkpoint : 0;
        run.Remaining = Math.Max(1, run.Remaining - saved);
        Stop(jobId, run);
        return ran - saved;
    }

    /// <inheritdoc />
    public bool Cancel(long jobId, long now)
    {
        if (!_runs.Remove(jobId, out var run)) return false;
        var wasRunning = run.Running;
        if (wasRunning) Stop(jobId, run);
        return wasRunning;
    }

    /// <inheritdoc />
    public IReadOnlyList<RunEnd> Ended(long now)
    {
        List<RunEnd>? ended = null;
        while (_ends.TryPeek(out var e, out var at) && at.Time <= now)
        {
            _ends.Dequeue();
            if (!_runs.TryGetValue(e.JobId, out var run) || !run.Running || run.Version != e.Version) continue;
            _runs.Remove(e.JobId);
            Stop(e.JobId, run);
            (ended ??= []).Add(new RunEnd(e.JobId, at.Time, run.Plan!.TimesOut ? RunOutcome.TimedOut : RunOutcome.Completed));
        }
        return ended ?? (IReadOnlyList<RunEnd>)[];
    }

    private void Stop(long jobId, Run run)
    {
        run.Running = false;
        run.Version++;
        _running--;
        foreach (var node in run.Nodes) _onNode[node]!.Remove(jobId);
    }

    // Durations on this executor's clock: k times shorter at time scale k, never under 1 s when not 0.
    private long Scaled(long seconds) => _timeScale == 1 ? seconds : (long)Math.Ceiling(seconds / _timeScale);

    private sealed class Run
    {
        public long Remaining { get; set; }
        public long Checkpoint { get; init; }
        public bool Running { get; set; }
        public int Version { get; set; }
        public RunPlan? Plan { get; set; }
        /// <summary>The nodes of its current (or last) placement.</summary>
        public int[] Nodes { get; set; } = [];
    }
}
