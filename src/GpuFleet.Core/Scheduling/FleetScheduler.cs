using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The scheduling core. It keeps the committed state (who runs where) and the pending queue, and on
/// each <see cref="RunCycle"/> returns the jobs to start now. It does no I/O, reads no clock (time is
/// passed in) and uses no randomness, so the live server and the simulator get the same decisions
/// from the same inputs.
/// <para>A cycle, in order:</para>
/// <list type="number">
/// <item>charge fair-share use accrued since the last call;</item>
/// <item>walk pending jobs in policy order, skipping classes already known not to fit;</item>
/// <item>place what fits (packing); at the first job that does not fit, either stop (<c>fifo</c>) or
/// reserve for it (EASY) and hold the free GPUs it will need;</item>
/// <item>after the reservation, start only jobs that fit outside the held GPUs, or that end before the
/// shadow time, up to the backfill window;</item>
/// <item>drop the holds and commit the placements.</item>
/// </list>
/// Pending jobs not visited (their class failed, or the walk stopped) get their reason lazily from
/// their class or from the stop, so a cycle over 100,000 pending jobs costs what it looks at.
/// </summary>
public sealed class FleetScheduler
{
    private readonly Fleet _fleet;
    private readonly SchedulerOptions _options;
    private readonly ClusterState _state;
    private readonly GangPlacer _placer;
    private readonly ShadowPlanner _shadow;
    private readonly Dictionary<long, JobRecord> _jobs = [];
    private readonly SortedSet<JobRecord> _pending = new(PendingOrder.Instance);
    private readonly SortedSet<RunningKey> _running = [];
    private readonly Dictionary<(int Gpus, ulong Models, TopologyNeed Need), JobClass> _classes = [];
    private readonly Dictionary<string, int> _tenantIndex = new(StringComparer.Ordinal);
    private readonly List<string> _tenantNames = [];
    private readonly List<SortedSet<JobRecord>> _tenantQueues = [];
    private readonly List<double> _tenantShare = [];
    private readonly List<double> _tenantUsage = [];
    private readonly List<int> _tenantRunningGpus = [];
    private readonly PriorityQueue<int, (double Key, int Tenant)> _tenantHeap = new();
    private readonly ulong _allModels;
    private int _activeClasses;
    private long _epoch;
    private long _lastAccrual = long.MinValue;
    private long _stopEpoch = -1;
    private PendingReason _stopReason;
    private long? _stopBlocking;
    private Cycle _cycle = new(0);

    /// <summary>Creates a scheduler over an empty fleet.</summary>
    public FleetScheduler(Fleet fleet, SchedulerOptions? options = null)
    {
        _fleet = fleet;
        _options = options ?? new SchedulerOptions();
        if (_options.BackfillWindow < 1) throw new ArgumentOutOfRangeException(nameof(options), "BackfillWindow must be at least 1");
        if (_options.FairShareHalfLifeSeconds < 1) throw new ArgumentOutOfRangeException(nameof(options), "FairShareHalfLifeSeconds must be at least 1");
        _state = new ClusterState(fleet);
        _placer = new GangPlacer(_state);
        _shadow = new ShadowPlanner(_state);
        _allModels = fleet.Models.Count == 64 ? ulong.MaxValue : (1UL << fleet.Models.Count) - 1;
    }

    /// <summary>The fleet scheduled.</summary>
    public Fleet Fleet => _fleet;
    /// <summary>The policy in force.</summary>
    public SchedulingPolicy Policy => _options.Policy;
    /// <summary>Jobs waiting.</summary>
    public int PendingCount => _pending.Count;
    /// <summary>Jobs running.</summary>
    public int RunningCount => _running.Count;
    /// <summary>Busy GPUs of each pool (see <see cref="Fleet.PoolCount"/>).</summary>
    public ReadOnlySpan<int> BusyByPool => _state.BusyByPool;
    /// <summary>Free GPUs of a pool that sit in completely free nodes (the rest are fragments).</summary>
    public int FreeInEmptyNodes(int pool) => _state.PoolFreeInEmptyNodes(pool);
    /// <summary>Free GPUs of a pool.</summary>
    public int FreeGpus(int pool) => _state.PoolFree(pool);
    /// <summary>Which GPUs of a node are in use (bit i = GPU i).</summary>
    public ulong NodeUsedMask(int node) => _state.NodeUsedMask(node);

    /// <summary>Queues a job, or rejects it with a reason when it can never run on this fleet.</summary>
    public SubmitResult Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Gpus < 1) return SubmitResult.Rejected(spec.Id, "gpus must be at least 1");
        if (spec.TimeLimitSeconds < 1) return SubmitResult.Rejected(spec.Id, "timeLimitSeconds must be at least 1");
        if (string.IsNullOrWhiteSpace(spec.Tenant)) return SubmitResult.Rejected(spec.Id, "tenant must not be empty");
        if (_jobs.ContainsKey(spec.Id)) return SubmitResult.Rejected(spec.Id, $"job {spec.Id} already exists");
        var mask = 0UL;
        foreach (var name in spec.Models)
        {
            var m = _fleet.ModelIndex(name);
            if (m < 0) return SubmitResult.Rejected(spec.Id, $"models: unknown GPU model '{name}' (this fleet has {string.Join(", ", _fleet.Models.Select(x => x.Name))})");
            mask |= 1UL << m;
        }
        if (mask == 0) mask = _allModels;
        var jobClass = ClassFor(spec.Gpus, mask, spec.Topology);
        if (jobClass.ImpossibleReason is { } why) return SubmitResult.Rejected(spec.Id, why);

        var job = new JobRecord(spec, TenantFor(spec.Tenant), jobClass);
        _jobs.Add(spec.Id, job);
        _pending.Add(job);
        _tenantQueues[job.Tenant].Add(job);
        if (jobClass.PendingCount++ == 0) _activeClasses++;
        return SubmitResult.Queued(spec.Id);
    }

    /// <summary>
    /// Removes a job: a running job that ended (its GPUs become free) or a pending one that was cancelled.
    /// Returns false for a job the scheduler does not hold.
    /// </summary>
    public bool End(long jobId, long now)
    {
        if (!_jobs.Remove(jobId, out var job)) return false;
        if (job.Running)
        {
            if (TracksUsage) Accrue(now);
            foreach (var alloc in job.Gpus!) _state.Release(alloc);
            _running.Remove(new RunningKey(job.ExpectedEnd, jobId));
            _tenantRunningGpus[job.Tenant] -= job.Spec.Gpus;
        }
        else
        {
            RemovePending(job);
        }
        return true;
    }

    /// <summary>The GPUs a running job holds, or null.</summary>
    public IReadOnlyList<GpuAllocation>? Allocation(long jobId) =>
        _jobs.TryGetValue(jobId, out var job) && job.Running ? job.Gpus : null;

    /// <summary>
    /// Decayed fair-share use of a tenant in GPU-seconds, as of the last cycle or job end. Tracked only
    /// under a fair-share order: the other policies never read it, and decaying every tenant at every
    /// job end would cost them O(tenants) for nothing.
    /// </summary>
    public double TenantUsage(string tenant) => _tenantIndex.TryGetValue(tenant, out var t) ? _tenantUsage[t] : 0;

    /// <summary>Runs one scheduling cycle at time <paramref name="now"/> and commits its placements.</summary>
    public CycleResult RunCycle(long now)
    {
        _epoch++;
        if (TracksUsage) Accrue(now);
        _cycle = new Cycle(now);

        // Phase 1-4: walk pending jobs in policy order.
        if (_options.Policy.Order == QueueOrder.Submit)
        {
            foreach (var job in _pending)
            {
                Consider(job);
                if (_cycle.Stopped) break;
            }
        }
        else
        {
            WalkFairShare();
            _tenantHeap.Clear();
        }

        // Phase 5: drop holds; the placed jobs leave the pending queues (not while they were walked).
        _state.ClearHolds();
        foreach (var decision in _cycle.Placements) RemovePending(_jobs[decision.JobId]);
        return new CycleResult(now, _cycle.Placements, _cycle.Reservation, _cycle.Attempts, _pending.Count);
    }

    /// <summary>Why a pending job waits, in codes and in words; null for a job not pending here.</summary>
    public PendingExplanation? Explain(long jobId)
    {
        if (!_jobs.TryGetValue(jobId, out var job) || job.Running) return null;
        PendingReason reason;
        long? blocking = null, estimate = null;
        if (job.ReasonEpoch == _epoch)
        {
            (reason, blocking, estimate) = (job.Reason, job.BlockingJob, job.EstimatedStart);
        }
        else if (_stopEpoch == _epoch && _stopReason == PendingReason.BehindHead)
        {
            (reason, blocking) = (_stopReason, _stopBlocking);
        }
        else if (job.Class.LongFailEpoch == _epoch || job.Class.ShortFailEpoch == _epoch)
        {
            (reason, blocking) = (job.Class.FailReason, job.Class.FailBlockingJob);
        }
        else if (_stopEpoch == _epoch)
        {
            (reason, blocking) = (_stopReason, _stopBlocking);
        }
        else
        {
            reason = PendingReason.NotYetConsidered;
        }
        return new PendingExplanation(jobId, reason, blocking, estimate, Describe(job, reason, blocking, estimate));
    }

    private bool TracksUsage => _options.Policy.Order == QueueOrder.FairShare;

    /// <summary>
    /// Fair-share walk: the tenant with the lowest use over share goes next. A tenant's key only grows
    /// when one of its jobs is placed, so after a job that was not placed the same tenant is still the
    /// lowest: its next jobs are taken straight from its queue, and the heap is touched only on
    /// placements — a skipped job costs no heap operation.
    /// </summary>
    private void WalkFairShare()
    {
        var tenants = _tenantQueues.Count;
        var cursors = new SortedSet<JobRecord>.Enumerator[tenants];
        var keys = new double[tenants];
        _tenantHeap.Clear();
        for (var t = 0; t < tenants; t++)
        {
            if (_tenantQueues[t].Count == 0) continue;
            cursors[t] = _tenantQueues[t].GetEnumerator();
            cursors[t].MoveNext();
            keys[t] = _tenantUsage[t] / _tenantShare[t];
            _tenantHeap.Enqueue(t, (keys[t], t));
        }
        var halfLife = _options.FairShareHalfLifeSeconds;
        while (_tenantHeap.TryDequeue(out var t, out _))
        {
            bool more;
            do
            {
                var job = cursors[t].Current;
                var placed = Consider(job);
                if (_cycle.Stopped) return;
                more = cursors[t].MoveNext();
                if (!placed) continue;
                // Count a placement as the use it will add over the next half-life at most, so that one
                // tenant with many small jobs cannot take every free GPU in one cycle.
                keys[t] += job.Spec.Gpus * (double)Math.Min(job.Spec.TimeLimitSeconds, halfLife) / _tenantShare[t];
                if (more) _tenantHeap.Enqueue(t, (keys[t], t));
                break;
            }
            while (more);
        }
    }

    /// <summary>Tries one job; true when it was placed.</summary>
    private bool Consider(JobRecord job)
    {
        var c = job.Class;
        var reservation = _cycle.Reservation;
        var now = _cycle.Now;
        var isShort = reservation is not null && now + job.Spec.TimeLimitSeconds <= reservation.ShadowTime;
        if (c.ShortFailEpoch == _epoch || (!isShort && c.LongFailEpoch == _epoch)) return false;
        if (reservation is not null && ++_cycle.BackfillAttempts > _options.BackfillWindow)
        {
            Stop(PendingReason.BeyondBackfillWindow, null);
            return false;
        }
        _cycle.Attempts++;

        var placed = _placer.TryPlace(c);
        if (placed is null && isShort && _state.HoldsActive)
        {
            // A job that ends before the shadow time may borrow held GPUs: they are back in time.
            _state.LiftHolds();
            placed = _placer.TryPlace(c);
            _state.ReapplyHolds();
        }
        if (placed is { } p)
        {
            _cycle.Placements.Add(new PlacementDecision(job.Spec.Id, _fleet.PoolModel(p.Pool), _fleet.PoolSite(p.Pool), p.Gpus, reservation is not null));
            // Running from now on, so that a reservation made later in this cycle counts its end.
            job.Running = true;
            job.Gpus = p.Gpus;
            job.ExpectedEnd = now + job.Spec.TimeLimitSeconds;
            _running.Add(new RunningKey(job.ExpectedEnd, job.Spec.Id));
            _tenantRunningGpus[job.Tenant] += job.Spec.Gpus;
            return true;
        }

        var reason = _placer.ClassifyFailure(c);
        if (reservation is null)
        {
            MarkFailed(c, shortToo: true, reason, null);
            if (!_options.Policy.Backfill)
            {
                SetReason(job, reason, null, null);
                Stop(PendingReason.BehindHead, job.Spec.Id);
                return false;
            }
            var shadow = _shadow.ReserveFor(c, now, _running.Select(k => (k.End, _jobs[k.Id].Gpus!)));
            if (shadow is { } s)
            {
                _cycle.Reservation = new Reservation(job.Spec.Id, s.ShadowTime, s.HeldGpus);
                SetReason(job, PendingReason.Reserved, null, s.ShadowTime);
                // Members of the head's class wait for the same GPUs, behind the head.
                c.FailReason = PendingReason.HeldForReservation;
                c.FailBlockingJob = job.Spec.Id;
            }
            else
            {
                SetReason(job, reason, null, null);
            }
            return false;
        }

        if (!isShort && _state.HoldsActive)
        {
            _state.LiftHolds();
            if (_placer.CanPlace(c)) reason = PendingReason.HeldForReservation;
            _state.ReapplyHolds();
        }
        MarkFailed(c, shortToo: isShort, reason, reason == PendingReason.HeldForReservation ? reservation.JobId : null);
        return false;
    }

    private void MarkFailed(JobClass c, bool shortToo, PendingReason reason, long? blocking)
    {
        c.LongFailEpoch = _epoch;
        c.FailReason = reason;
        c.FailBlockingJob = blocking;
        if (!shortToo || c.ShortFailEpoch == _epoch) return;
        c.ShortFailEpoch = _epoch;
        // Every class with pending jobs has failed outright: nothing further can start this cycle.
        if (++_cycle.ExhaustedClasses >= _activeClasses) Stop(PendingReason.NoFreeGpus, null, classReasonsOnly: true);
    }

    private void Stop(PendingReason reason, long? blocking, bool classReasonsOnly = false)
    {
        _cycle.Stopped = true;
        if (classReasonsOnly) return;
        _stopEpoch = _epoch;
        _stopReason = reason;
        _stopBlocking = blocking;
    }

    private void SetReason(JobRecord job, PendingReason reason, long? blocking, long? estimate)
    {
        job.ReasonEpoch = _epoch;
        job.Reason = reason;
        job.BlockingJob = blocking;
        job.EstimatedStart = estimate;
    }

    private void RemovePending(JobRecord job)
    {
        _pending.Remove(job);
        _tenantQueues[job.Tenant].Remove(job);
        if (--job.Class.PendingCount == 0) _activeClasses--;
    }

    /// <summary>
    /// Decays every tenant's use to <paramref name="now"/> and adds what its running jobs used since the
    /// last call, integrated exactly: ∫ r·2^(−(now−s)/H) ds = r·H/ln 2·(1 − 2^(−dt/H)).
    /// </summary>
    private void Accrue(long now)
    {
        if (_lastAccrual == long.MinValue || now <= _lastAccrual)
        {
            _lastAccrual = Math.Max(_lastAccrual, now);
            return;
        }
        var h = (double)_options.FairShareHalfLifeSeconds;
        var decay = Math.Pow(2, -(now - _lastAccrual) / h);
        var gain = h / Math.Log(2) * (1 - decay);
        for (var t = 0; t < _tenantUsage.Count; t++)
            _tenantUsage[t] = _tenantUsage[t] * decay + _tenantRunningGpus[t] * gain;
        _lastAccrual = now;
    }

    private int TenantFor(string name)
    {
        if (_tenantIndex.TryGetValue(name, out var t)) return t;
        t = _tenantNames.Count;
        _tenantIndex[name] = t;
        _tenantNames.Add(name);
        _tenantQueues.Add(new SortedSet<JobRecord>(PendingOrder.Instance));
        var share = _options.TenantShares.GetValueOrDefault(name, 1.0);
        _tenantShare.Add(share > 0 ? share : 1.0);
        _tenantUsage.Add(0);
        _tenantRunningGpus.Add(0);
        return t;
    }

    private JobClass ClassFor(int gpus, ulong mask, TopologyNeed need)
    {
        if (_classes.TryGetValue((gpus, mask, need), out var existing)) return existing;
        var pools = new List<int>();
        var levels = new List<PlacementLevel>();
        var position = new int[_fleet.PoolCount];
        Array.Fill(position, -1);
        var largest = 0;
        for (var p = 0; p < _fleet.PoolCount; p++)
        {
            var model = _fleet.PoolModel(p);
            if ((mask & (1UL << model)) == 0) continue;
            var level = LevelIn(p, gpus, need, mask);
            largest = Math.Max(largest, need switch
            {
                TopologyNeed.Node => _fleet.PoolMaxNodeGpus(p),
                TopologyNeed.Domain => _fleet.PoolMaxDomainGpus(p),
                TopologyNeed.Anywhere => ModelGpus(model),
                _ => _fleet.PoolGpus(p),
            });
            if (level == PlacementLevel.Impossible) continue;
            position[p] = pools.Count;
            pools.Add(p);
            levels.Add(level);
        }
        string? impossible = null;
        if (pools.Count == 0)
        {
            var scope = need switch
            {
                TopologyNeed.Node => "one node",
                TopologyNeed.Domain => "one NVLink domain",
                TopologyNeed.Anywhere => "the fleet",
                _ => "one site",
            };
            impossible = largest == 0
                ? "gpus: no GPU of the acceptable models exists in this fleet"
                : $"gpus: {gpus} GPUs can never fit within {scope} of this fleet (largest: {largest} GPUs of an acceptable model)";
        }
        var jobClass = new JobClass
        {
            Id = _classes.Count,
            Gpus = gpus,
            ModelMask = mask,
            Need = need,
            Pools = [.. pools],
            Levels = [.. levels],
            PoolPosition = position,
            ImpossibleReason = impossible,
        };
        _classes.Add((gpus, mask, need), jobClass);
        return jobClass;
    }

    private PlacementLevel LevelIn(int pool, int gpus, TopologyNeed need, ulong mask)
    {
        if (gpus <= _fleet.PoolMaxNodeGpus(pool)) return PlacementLevel.Node;
        if (need == TopologyNeed.Node) return PlacementLevel.Impossible;
        if (gpus <= _fleet.PoolMaxDomainGpus(pool)) return PlacementLevel.Domain;
        if (need == TopologyNeed.Domain) return PlacementLevel.Impossible;
        if (gpus <= _fleet.PoolGpus(pool)) return PlacementLevel.Pool;
        if (need == TopologyNeed.Anywhere && (mask & (1UL << _fleet.PoolModel(pool))) != 0 && gpus <= ModelGpus(_fleet.PoolModel(pool)))
            return PlacementLevel.MultiPool;
        return PlacementLevel.Impossible;
    }

    private int ModelGpus(int model)
    {
        var sum = 0;
        for (var p = 0; p < _fleet.PoolCount; p++) if (_fleet.PoolModel(p) == model) sum += _fleet.PoolGpus(p);
        return sum;
    }

    private string Describe(JobRecord job, PendingReason reason, long? blocking, long? estimate)
    {
        var need = $"{job.Spec.Gpus} GPU{(job.Spec.Gpus == 1 ? "" : "s")}";
        return reason switch
        {
            PendingReason.NoFreeGpus => $"waiting for {need}: not enough free GPUs of an acceptable model",
            PendingReason.Fragmented => $"waiting for {need} in one {(job.Class.Levels.Min() == PlacementLevel.Node ? "node" : "NVLink domain")}: enough are free, but scattered",
            PendingReason.Reserved => $"next to start: {need} reserved, starting by t={estimate}",
            PendingReason.HeldForReservation => $"waiting: free GPUs are held for job {blocking}, and this job would run past its start",
            PendingReason.BehindHead => $"waiting behind job {blocking} (first in, first out)",
            PendingReason.BeyondBackfillWindow => "waiting: the last cycle reached its backfill window before this job",
            _ => "waiting for the next scheduling cycle",
        };
    }

    private sealed class Cycle(long now)
    {
        public long Now { get; } = now;
        public List<PlacementDecision> Placements { get; } = [];
        public Reservation? Reservation { get; set; }
        public int Attempts { get; set; }
        public int BackfillAttempts { get; set; }
        public int ExhaustedClasses { get; set; }
        public bool Stopped { get; set; }
    }
}
