using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The scheduling core. It keeps the committed state (who runs where) and the pending queue, and on
/// each <see cref="RunCycle"/> returns the jobs to start now. It does no I/O, reads no clock (time is
/// passed in) and uses no randomness, so the live server and the simulator get the same decisions
/// from the same inputs.
/// <para>A cycle, in order:</para>
/// <list type="number">
/// <item>charge fair-share use and grants accrued since the last call;</item>
/// <item>a large gang that has waited too long goes first, so it holds the reservation until it starts;</item>
/// <item>walk pending jobs in policy order (owners, then their tenants, by decayed use over weight under
/// fair share), skipping classes already known not to fit; a job first passes its grant and quota
/// (within its guarantee, or borrowing within borrow and lend limits);</item>
/// <item>a job within its guarantee that does not fit reclaims lent GPUs (and a job of a higher class
/// preempts lower preemptible ones of its tenant): whole gangs, the fewest that free enough, least work lost first;</item>
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
    private readonly Dictionary<(int Gpus, ulong Models, TopologyNeed Need, int Site, int DataSite), JobClass> _classes = [];
    private readonly TenantLedger _ledger;
    private readonly List<SortedSet<JobRecord>> _tenantQueues = [];
    private readonly List<HashSet<JobRecord>> _tenantRunning = [];
    private readonly List<int> _tenantBestEffort = [];
    private readonly List<int> _tenantPreemptible = [];
    private readonly List<Dictionary<(int Class, int Priority), int>> _tenantPendingByClass = [];
    private readonly Dictionary<(int Tenant, int Class, int Priority), Settled> _settled = [];
    private readonly List<(long Epoch, long Generation, int Count)> _tenantSettled = [];
    // Bumped by evictions: GPUs came free, so what was settled in this cycle may start after all.
    private long _generation;
    private readonly SortedSet<JobRecord> _largePending = new(SubmitOrder.Instance);
    private readonly List<JobRecord> _requeue = [];
    private readonly List<Victim> _victims = [];
    private readonly Dictionary<(int Tenant, int Class, bool BestEffort), QuotaAnswer> _quotaMemo = [];
    // Bumped whenever an answer of QuotaFor may change: a job starts or stops, or a reservation holds GPUs.
    private long _quotaVersion;
    private readonly Dictionary<(PlacementLevel, int), List<(Victim Victim, int Gpus)>> _units = [];
    private readonly Dictionary<(PlacementLevel, int), (long Stamp, int Gpus)> _victimUnits = [];
    private readonly List<(PlacementLevel, int)> _touchedUnits = [];
    // Per search for victims: what each (tenant, model) runs beyond its guarantee, and what a choice takes of it.
    private readonly Dictionary<(int Tenant, int Model), int> _surplus = [];
    private readonly Dictionary<(int Tenant, int Model), int> _taken = [];
    private long _victimStamp;
    private readonly PriorityQueue<int, FairKey> _tenantHeap = new();
    private readonly ulong _allModels;
    private int _activeClasses;
    private long _epoch;
    private long _now;
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
        _ledger = new TenantLedger(fleet, _options.Tenants, _options.TenantShares);
        if (_options.Policy.Quotas != QuotaMode.None && !_ledger.HasTree)
            throw new ArgumentException($"policy '{_options.Policy.Name}' needs a tenant tree with guarantees", nameof(options));
        GrowTenants();
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
        var result = Check(spec, out var leaf, out var jobClass, out var priorityClass);
        if (!result.Accepted) return result;
        var job = new JobRecord(spec, leaf, jobClass!, priorityClass!);
        _jobs.Add(spec.Id, job);
        AddPending(job);
        return result;
    }

    /// <summary>
    /// Whether <see cref="Submit"/> would queue the job, with the same reason when not, without queuing it
    /// (a control plane refuses a job that can never run when it is submitted).
    /// </summary>
    public SubmitResult Check(JobSpec spec) => Check(spec, out _, out _, out _);

    private SubmitResult Check(JobSpec spec, out int leaf, out JobClass? jobClass, out PriorityClass? priorityClass)
    {
        ArgumentNullException.ThrowIfNull(spec);
        (leaf, jobClass, priorityClass) = (-1, null, null);
        if (spec.Gpus < 1) return SubmitResult.Rejected(spec.Id, "gpus must be at least 1");
        if (spec.TimeLimitSeconds < 1) return SubmitResult.Rejected(spec.Id, "timeLimitSeconds must be at least 1");
        if (string.IsNullOrWhiteSpace(spec.Tenant)) return SubmitResult.Rejected(spec.Id, "tenant must not be empty");
        if (_jobs.ContainsKey(spec.Id)) return SubmitResult.Rejected(spec.Id, $"job {spec.Id} already exists");
        leaf = _ledger.LeafFor(spec.Tenant, open: _options.Policy.Quotas == QuotaMode.None);
        if (leaf < 0) return SubmitResult.Rejected(spec.Id, $"tenant: '{spec.Tenant}' is not a project (leaf) of the tenant tree");
        GrowTenants();
        priorityClass = spec.PriorityClass is null ? _ledger.DefaultClass : _ledger.Classes.FirstOrDefault(c => c.Name == spec.PriorityClass);
        if (priorityClass is null)
            return SubmitResult.Rejected(spec.Id, $"priorityClass: unknown class '{spec.PriorityClass}' (known: {string.Join(", ", _ledger.Classes.Select(c => c.Name))})");
        var site = spec.Site is null ? -1 : _fleet.SiteIndex(spec.Site);
        if (spec.Site is not null && site < 0) return SubmitResult.Rejected(spec.Id, $"site: unknown site '{spec.Site}'");
        var dataSite = spec.DataSite is null ? -1 : _fleet.SiteIndex(spec.DataSite);
        if (spec.DataSite is not null && dataSite < 0) return SubmitResult.Rejected(spec.Id, $"dataSite: unknown site '{spec.DataSite}'");
        var mask = 0UL;
        foreach (var name in spec.Models)
        {
            var m = _fleet.ModelIndex(name);
            if (m < 0) return SubmitResult.Rejected(spec.Id, $"models: unknown GPU model '{name}' (this fleet has {string.Join(", ", _fleet.Models.Select(x => x.Name))})");
            mask |= 1UL << m;
        }
        if (mask == 0) mask = _allModels;
        jobClass = ClassFor(spec.Gpus, mask, spec.Topology, site, dataSite);
        if (jobClass.ImpossibleReason is { } why) return SubmitResult.Rejected(spec.Id, why);
        if (_options.Policy.Quotas != QuotaMode.None && !FitsSomeQuota(leaf, jobClass))
            return new SubmitResult(spec.Id, false, _options.Policy.Quotas == QuotaMode.Confined
                ? $"gpus: {spec.Gpus} GPUs exceed tenant '{spec.Tenant}''s whole guarantee of an acceptable model; under '{_options.Policy.Name}' it can never run"
                : $"gpus: {spec.Gpus} GPUs exceed tenant '{spec.Tenant}''s guarantee plus borrowing limit of every acceptable model; it can never run",
                ExceedsGuarantee: true);
        return SubmitResult.Queued(spec.Id);
    }

    /// <summary>Whether the job's tenant could ever run it: within its guarantee (static), or its guarantee plus borrowing limits (shared).</summary>
    private bool FitsSomeQuota(int leaf, JobClass jobClass)
    {
        foreach (var p in jobClass.Pools)
            if (_ledger.MostRunnable(leaf, _fleet.PoolModel(p), lending: _options.Policy.Quotas == QuotaMode.Lending) >= jobClass.Gpus) return true;
        return false;
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
            Charge(now);
            StopRunning(job);
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
    public double TenantUsage(string tenant) => _ledger.NodeOf(tenant) is var n and >= 0 ? _ledger.Usage(n) : 0;

    /// <summary>Nodes of the tenant tree (owners, their tenants, and tenants that appeared without a tree).</summary>
    public int TenantCount => _ledger.NodeCount;
    /// <summary>Name of tenant node <paramref name="node"/>.</summary>
    public string TenantName(int node) => _ledger.Name(node);
    /// <summary>The owner (top node) of tenant node <paramref name="node"/>.</summary>
    public int TenantOwner(int node) => _ledger.Owner(node);
    /// <summary>Whether jobs are submitted to this node.</summary>
    public bool TenantIsLeaf(int node) => _ledger.IsLeaf(node);
    /// <summary>The nodes from the owner down to <paramref name="node"/>, itself included.</summary>
    public ReadOnlySpan<int> TenantPath(int node) => _ledger.Path(node);
    /// <summary>GPUs of a model guaranteed to a tenant node.</summary>
    public int TenantGuarantee(int node, int model) => _ledger.Guarantee(node, model);
    /// <summary>GPUs of a model a tenant node's running jobs hold.</summary>
    public int TenantUse(int node, int model) => _ledger.Use(node, model);
    /// <summary>GPU-hours a project ran beyond its grants (jobs admitted while hours were left run to their end).</summary>
    public double TenantGrantOverrunGpuHours(int node) => _ledger.OverrunGpuHours(node);
    /// <summary>GPU-hours charged to each grant of a project.</summary>
    public IEnumerable<(Grant Grant, double UsedGpuHours)> TenantGrantUse(int node) => _ledger.GrantUse(node);

    /// <summary>Runs one scheduling cycle at time <paramref name="now"/> and commits its placements.</summary>
    public CycleResult RunCycle(long now)
    {
        _epoch++;
        Charge(now);
        _now = now;
        _cycle = new Cycle(now);

        // A large gang that waited too long goes first: it places, or it takes the reservation and
        // everything after it only backfills, so thousands of small arrivals cannot starve it.
        if (_options.Policy.Backfill && _largePending.Count > 0 && now - _largePending.Min!.Spec.SubmitTime >= _options.LargeGangReserveAfterSeconds)
            Consider(_largePending.Min);

        // Phase 1-4: walk pending jobs in policy order.
        if (_cycle.Stopped)
        {
        }
        else if (_options.Policy.Order == QueueOrder.Submit)
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
        _quotaVersion++;
        foreach (var decision in _cycle.Placements) RemovePending(_jobs[decision.JobId]);
        // Evicted jobs queue again under their first submission time: they keep their place in line.
        foreach (var victim in _requeue) AddPending(victim);
        _requeue.Clear();
        return new CycleResult(now, _cycle.Placements, _cycle.Reservation, _cycle.Attempts, _pending.Count, _cycle.Preemptions);
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
        else if (_settled.TryGetValue((job.Tenant, job.Class.Id, job.Priority), out var settled) && settled.Epoch == _epoch)
        {
            (reason, blocking) = (settled.Reason, settled.Blocking);
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
        estimate ??= Estimate(job, reason);
        return new PendingExplanation(jobId, reason, blocking, estimate, Describe(job, reason, blocking, estimate));
    }

    /// <summary>
    /// When a pending job is expected to start, from a test-only placement: the first time, as running
    /// jobs end by their limits, that its quota (for quota reasons) or the GPUs (otherwise) let it fit.
    /// Jobs ahead of it are not counted, so this is the earliest start, not a promise.
    /// </summary>
    private long? Estimate(JobRecord job, PendingReason reason)
    {
        switch (reason)
        {
            case PendingReason.GrantExhausted:
                return _ledger.GrantState(job.Tenant, _now).NextOpen;
            case PendingReason.GuaranteeInUse or PendingReason.BorrowLimitReached:
                long? best = null;
                foreach (var p in job.Class.Pools)
                {
                    var m = _fleet.PoolModel(p);
                    var need = _ledger.Use(job.Tenant, m) + job.Spec.Gpus - _ledger.Guarantee(job.Tenant, m);
                    if (reason == PendingReason.GuaranteeInUse && job.Spec.Gpus > _ledger.Guarantee(job.Tenant, m)) continue;
                    foreach (var r in _tenantRunning[job.Tenant].Where(r => r.Model == m).OrderBy(r => r.ExpectedEnd))
                    {
                        need -= r.Spec.Gpus;
                        if (need > 0) continue;
                        best = best is null ? r.ExpectedEnd : Math.Min(best.Value, r.ExpectedEnd);
                        break;
                    }
                }
                return best is null ? null : Math.Max(best.Value, _now);
            default:
                return _shadow.EarliestFit(job.Class, _now, _running.Select(k => (k.End, _jobs[k.Id].Gpus!)));
        }
    }

    private bool TracksUsage => _options.Policy.Order == QueueOrder.FairShare;

    /// <summary>Brings fair-share use and grant balances up to <paramref name="now"/>.</summary>
    private void Charge(long now)
    {
        if (TracksUsage) _ledger.Accrue(now, _options.FairShareHalfLifeSeconds);
        _ledger.ChargeGrants(now);
    }

    /// <summary>
    /// Fair-share walk: the leaf whose path has the lowest use over weight, owner level first (Fair
    /// Tree), goes next. Keys only grow, and only on a placement, so after a job that was not placed the
    /// same leaf is still the lowest: its next jobs come straight from its queue and a skipped job costs
    /// no heap operation. A placement also raises the keys of the leaf's siblings' ancestors, so a
    /// dequeued key is checked against the current one and, if stale, queued again (lazy update).
    /// </summary>
    private void WalkFairShare()
    {
        var tenants = _tenantQueues.Count;
        var cursors = new SortedSet<JobRecord>.Enumerator[tenants];
        _ledger.BeginOrdering();
        _tenantHeap.Clear();
        for (var t = 0; t < tenants; t++)
        {
            if (_tenantQueues[t].Count == 0) continue;
            cursors[t] = _tenantQueues[t].GetEnumerator();
            cursors[t].MoveNext();
            _tenantHeap.Enqueue(t, _ledger.KeyOf(t));
        }
        var halfLife = _options.FairShareHalfLifeSeconds;
        while (_tenantHeap.TryDequeue(out var t, out var key))
        {
            var current = _ledger.KeyOf(t);
            if (current.CompareTo(key) > 0)
            {
                _tenantHeap.Enqueue(t, current);
                continue;
            }
            bool more;
            do
            {
                var job = cursors[t].Current;
                var placed = Consider(job);
                if (_cycle.Stopped) return;
                // Every kind of job this tenant has waiting is settled for this cycle: skip the rest of its queue.
                if (!placed && TenantSettled(t)) break;
                more = cursors[t].MoveNext();
                if (!placed) continue;
                // Count a placement as the use it will add over the next half-life at most, so that one
                // tenant with many small jobs cannot take every free GPU in one cycle.
                _ledger.Charge(t, job.Spec.Gpus * (double)Math.Min(job.Spec.TimeLimitSeconds, halfLife));
                if (more) _tenantHeap.Enqueue(t, _ledger.KeyOf(t));
                break;
            }
            while (more);
        }
    }

    /// <summary>Tries one job; true when it was placed. Grant and quota first, then the GPUs.</summary>
    private bool Consider(JobRecord job)
    {
        if (job.Running) return false;
        var bestEffort = job.PriorityClass.BestEffort;
        switch (_ledger.GrantState(job.Tenant, _cycle.Now).Standing)
        {
            case GrantStanding.ExhaustedHold:
                SetReason(job, PendingReason.GrantExhausted, null, null);
                Settle(job, PendingReason.GrantExhausted, null);
                return false;
            case GrantStanding.ExhaustedBestEffort:
                bestEffort = true;
                break;
        }

        var c = job.Class;
        var guaranteed = false;
        if (_options.Policy.Quotas != QuotaMode.None)
        {
            var quota = QuotaFor(job, bestEffort);
            if (quota.Class is null)
            {
                SetReason(job, quota.Refusal, null, null);
                Settle(job, quota.Refusal, null);
                return false;
            }
            c = quota.Class;
            guaranteed = quota.Guaranteed;
        }
        var placed = Attempt(job, c, guaranteed);
        if (placed)
        {
            job.BestEffortRun = bestEffort;
            job.FirstBlockedAt = null;
            if (bestEffort) _tenantBestEffort[job.Tenant]++;
        }
        else if (guaranteed)
        {
            job.FirstBlockedAt ??= _cycle.Now;
        }
        if (!placed && c != job.Class && job.ReasonEpoch != _epoch) SetReason(job, c.FailReason, c.FailBlockingJob, null);
        // Settled when no member of the class can start in this cycle, long or short, nor evict its way in.
        if (!placed && _options.Policy.Quotas != QuotaMode.None && c.ShortFailEpoch == _epoch && !MayStillPreempt(job, c, guaranteed))
            Settle(job, job.ReasonEpoch == _epoch ? job.Reason : c.FailReason, job.ReasonEpoch == _epoch ? job.BlockingJob : c.FailBlockingJob);
        return placed;
    }

    private bool MayStillPreempt(JobRecord job, JobClass c, bool guaranteed) =>
        PreemptionLeft && c.NoVictimsUntil <= _cycle.Now && (guaranteed || _tenantPreemptible[job.Tenant] > 0);

    /// <summary>
    /// Records that a tenant's jobs of one class and priority cannot start in this cycle. Within a cycle that stays
    /// true — capacity only shrinks, and a tenant's quota answers only tighten — until an eviction frees
    /// GPUs (a new generation). Once every class a tenant has waiting is settled, the walk skips the rest
    /// of its queue: a tenant with 30,000 queued jobs costs its distinct kinds, not 30,000 visits.
    /// </summary>
    private void Settle(JobRecord job, PendingReason reason, long? blocking)
    {
        // Jobs of one class and priority ask the same of quota and preemption; a class alone would not do
        // (a best-effort job may be refused where a normal one of the same shape is not).
        var key = (job.Tenant, job.Class.Id, job.Priority);
        if (_settled.TryGetValue(key, out var old) && old.Epoch == _epoch && old.Generation == _generation) return;
        _settled[key] = new Settled(_epoch, _generation, reason, blocking);
        var (epoch, generation, count) = _tenantSettled[job.Tenant];
        _tenantSettled[job.Tenant] = epoch == _epoch && generation == _generation ? (epoch, generation, count + 1) : (_epoch, _generation, 1);
    }

    private bool TenantSettled(int tenant)
    {
        var (epoch, generation, count) = _tenantSettled[tenant];
        return epoch == _epoch && generation == _generation && count >= _tenantPendingByClass[tenant].Count;
    }

    private readonly record struct Settled(long Epoch, long Generation, PendingReason Reason, long? Blocking);

    /// <summary>
    /// The part of a job's class its tenant's quota allows now: the models on which it stays within its
    /// guarantee (safe from reclaim), else those it may borrow, else none with the reason. Memoised per
    /// tenant and class until use changes or a reservation holds GPUs, so a long queue of jobs that
    /// cannot start costs a lookup each.
    /// </summary>
    private QuotaAnswer QuotaFor(JobRecord job, bool bestEffort)
    {
        var key = (job.Tenant, job.Class.Id, bestEffort);
        if (_quotaMemo.TryGetValue(key, out var memo) && memo.Version == _quotaVersion) return memo;
        var c = job.Class;
        ulong within = 0, borrow = 0;
        var refusal = _options.Policy.Quotas == QuotaMode.Confined ? PendingReason.GuaranteeInUse : PendingReason.KeptForLenders;
        for (var bits = c.ModelMask; bits != 0; bits &= bits - 1)
        {
            var m = System.Numerics.BitOperations.TrailingZeroCount(bits);
            if (!bestEffort && _ledger.WithinGuarantee(job.Tenant, m, c.Gpus))
            {
                within |= 1UL << m;
                continue;
            }
            if (_options.Policy.Quotas == QuotaMode.Confined) continue;
            switch (_ledger.CheckBorrow(job.Tenant, m, c.Gpus, _ledger.LendRestricted ? ModelUsable(m) : 0))
            {
                case QuotaVerdict.Allowed: borrow |= 1UL << m; break;
                case QuotaVerdict.BorrowLimit: refusal = PendingReason.BorrowLimitReached; break;
            }
        }
        // Within the guarantee on some model: run there, safe from reclaim; otherwise borrow.
        var allowed = within != 0 ? within : borrow;
        var part = allowed == 0 ? null : allowed == c.ModelMask ? c : ClassFor(c.Gpus, allowed, c.Need, c.Site, c.DataSite);
        var answer = new QuotaAnswer(_quotaVersion, part?.ImpossibleReason is null ? part : null, within != 0, refusal);
        _quotaMemo[key] = answer;
        return answer;
    }

    private sealed record QuotaAnswer(long Version, JobClass? Class, bool Guaranteed, PendingReason Refusal);

    /// <summary>Places a job as a member of <paramref name="c"/> (its class, or the part of it its quota allows); true when placed.</summary>
    private bool Attempt(JobRecord job, JobClass c, bool guaranteed)
    {
        var reservation = _cycle.Reservation;
        var now = _cycle.Now;
        var isShort = reservation is not null && now + job.Limit <= reservation.ShadowTime;
        if (c.ShortFailEpoch == _epoch || (!isShort && c.LongFailEpoch == _epoch))
            return TryPreempt(job, c, guaranteed) is { } byEviction && Commit(job, byEviction, guaranteed);
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
        if (placed is { } p) return Commit(job, (p.Pool, p.Gpus, 0), guaranteed);

        var reason = _placer.ClassifyFailure(c);
        MarkFailed(c, shortToo: reservation is null || isShort, reason, null);
        if (TryPreempt(job, c, guaranteed) is { } evicted) return Commit(job, evicted, guaranteed);
        if (reservation is null)
        {
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
                _quotaVersion++;
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
        c.FailReason = reason;
        c.FailBlockingJob = reason == PendingReason.HeldForReservation ? reservation.JobId : null;
        return false;
    }

    /// <summary>Records a placement: the job runs from now, so a reservation made later in this cycle counts its end.</summary>
    private bool Commit(JobRecord job, (int Pool, GpuAllocation[] Gpus, long Delay) placed, bool guaranteed)
    {
        var now = _cycle.Now;
        var model = _fleet.PoolModel(placed.Pool);
        _cycle.Placements.Add(new PlacementDecision(job.Spec.Id, model, _fleet.PoolSite(placed.Pool), placed.Gpus, _cycle.Reservation is not null)
        {
            StartDelaySeconds = placed.Delay,
            Borrowed = _options.Policy.Quotas != QuotaMode.None && !guaranteed,
        });
        job.Running = true;
        job.Gpus = placed.Gpus;
        job.Model = model;
        job.StartTime = now;
        job.ExpectedEnd = now + placed.Delay + job.Spec.TimeLimitSeconds;
        _running.Add(new RunningKey(job.ExpectedEnd, job.Spec.Id));
        _ledger.Start(job.Tenant, model, job.Spec.Gpus);
        _quotaVersion++;
        _tenantRunning[job.Tenant].Add(job);
        if (job.PriorityClass.Preemptible) _tenantPreemptible[job.Tenant]++;
        return true;
    }

    private void StopRunning(JobRecord job)
    {
        foreach (var alloc in job.Gpus!) _state.Release(alloc);
        _running.Remove(new RunningKey(job.ExpectedEnd, job.Spec.Id));
        _ledger.Stop(job.Tenant, job.Model, job.Spec.Gpus);
        _quotaVersion++;
        _tenantRunning[job.Tenant].Remove(job);
        if (job.BestEffortRun) _tenantBestEffort[job.Tenant]--;
        if (job.PriorityClass.Preemptible) _tenantPreemptible[job.Tenant]--;
        job.Running = false;
        job.Gpus = null;
        job.BestEffortRun = false;
    }

    private bool PreemptionLeft => _options.Policy.Preemption
        && _cycle.PreemptionAttempts < _options.MaxPreemptionAttemptsPerCycle
        && _cycle.Preemptions.Count < _options.MaxEvictionsPerCycle;

    /// <summary>
    /// Frees GPUs for a job that does not fit by evicting running gangs, or returns null with nothing
    /// changed. A job within its tenant's guarantee reclaims from tenants running above theirs and from
    /// best-effort jobs; any job may preempt lower, preemptible classes of its own tenant. Nobody is
    /// evicted before its class's minimum runtime.
    /// <para>Worked example — a 48-GPU job (one pool) needs 40 more GPUs; borrowers run a 376-GPU gang for
    /// 2 h (lost work 752 GPU-h) and six 8-GPU jobs for 1 h (8 GPU-h each). Taking the least lost work
    /// first gives five 8-GPU jobs (40 GPUs, 40 GPU-h lost); the pruning pass then drops any victim the
    /// others cover. The 376-GPU gang is never touched.</para>
    /// The unit searched is the job's own placement level: a node for a job that must fit in one, an
    /// NVLink domain, or a pool (one model at one site). Victims free GPUs in the unit and, where the site's
    /// power cap binds, power. A choice that takes from no other tenant more than its work (best-effort
    /// aside) runs beyond its guarantee wins over one that does; then the least lost work, then the fewest
    /// GPUs evicted.
    /// </summary>
    private (int Pool, GpuAllocation[] Gpus, long Delay)? TryPreempt(JobRecord job, JobClass c, bool guaranteed)
    {
        // A borrowing job may only preempt its own tenant's lower classes: with none running, do not spend an attempt.
        var now = _cycle.Now;
        if (!PreemptionLeft || (!guaranteed && _tenantPreemptible[job.Tenant] == 0) || c.NoVictimsUntil > now) return null;
        // A class that failed earlier in this cycle comes here without trying to place: evictions since then
        // may have left enough free (a gang evicted for a smaller job), and those are taken before evicting
        // more. Within a cycle only evictions free GPUs, so without any the attempt would fail again.
        if (_cycle.Preemptions.Count > 0 && _placer.TryPlace(c) is { } unused) return (unused.Pool, unused.Gpus, 0);
        _cycle.PreemptionAttempts++;
        _victims.Clear();
        for (var t = 0; t < _tenantRunning.Count; t++)
        {
            var own = t == job.Tenant;
            if (!own && !(guaranteed && (_tenantBestEffort[t] > 0 || BorrowingAny(t, c.ModelMask)))) continue;
            foreach (var v in _tenantRunning[t])
            {
                if (v.StartTime >= now || now - v.StartTime < v.PriorityClass.MinRuntimeSeconds) continue;
                if ((c.ModelMask & (1UL << v.Model)) == 0) continue;
                PreemptionKind kind;
                if (guaranteed && (v.BestEffortRun || (!own && _ledger.Borrowing(t, v.Model)))) kind = PreemptionKind.Reclaim;
                else if (own && v.PriorityClass.Preemptible && v.Priority < job.Priority) kind = PreemptionKind.Priority;
                else continue;
                _victims.Add(new Victim(v, kind, LostGpuSeconds(v, now)));
            }
        }
        if (_victims.Count == 0) return NoVictims(c, now);
        long reachable = 0;
        foreach (var v in _victims) reachable += v.Job.Spec.Gpus;
        foreach (var pool in c.Pools) reachable += _state.PoolUsable(pool);
        if (reachable < c.Gpus) return NoVictims(c, now);

        // Group the victims' GPUs by the unit the job would be placed in: per victim, sum its GPUs per
        // unit first (a 1,024-GPU gang spans 256 nodes), then add one entry per unit it touches.
        _units.Clear();
        foreach (var v in _victims)
        {
            // Stamped entries instead of Clear(): clearing a dictionary costs its capacity, which one large gang inflates.
            var stamp = ++_victimStamp;
            _touchedUnits.Clear();
            foreach (var alloc in v.Job.Gpus!)
            {
                var pool = _fleet.NodePool(alloc.Node);
                var pos = c.PoolPosition[pool];
                if (pos < 0) continue;
                (PlacementLevel, int) unit = c.Levels[pos] switch
                {
                    PlacementLevel.Node => (PlacementLevel.Node, alloc.Node),
                    PlacementLevel.Domain => (PlacementLevel.Domain, _fleet.NodeDomain(alloc.Node)),
                    PlacementLevel.Pool => (PlacementLevel.Pool, pool),
                    _ => (PlacementLevel.Impossible, -1),
                };
                if (unit.Item1 == PlacementLevel.Impossible) continue;
                if (_victimUnits.TryGetValue(unit, out var seen) && seen.Stamp == stamp) _victimUnits[unit] = (stamp, seen.Gpus + alloc.Count);
                else
                {
                    _victimUnits[unit] = (stamp, alloc.Count);
                    _touchedUnits.Add(unit);
                }
            }
            foreach (var unit in _touchedUnits)
            {
                if (!_units.TryGetValue(unit, out var list)) _units[unit] = list = [];
                list.Add((v, _victimUnits[unit].Gpus));
            }
        }

        List<(Victim Victim, int Gpus)>? best = null;
        (bool Pushes, double Lost, int Gpus) bestCost = (true, double.MaxValue, int.MaxValue);
        _surplus.Clear();
        foreach (var ((level, id), list) in _units.OrderBy(u => u.Key.Item1).ThenBy(u => u.Key.Item2))
        {
            var (free, pool) = level switch
            {
                PlacementLevel.Node => (_state.NodeFree(id), _fleet.NodePool(id)),
                PlacementLevel.Domain => (_state.DomainFree(id), _fleet.DomainPool(id)),
                _ => (_state.PoolFree(id), id),
            };
            var need = c.Gpus - free;
            // GPUs of the pool that must stop for the job to start within its site's power cap.
            var powerNeed = c.Gpus - _state.PoolPowerRoom(pool);
            if ((need <= 0 && powerNeed <= 0) || list.Sum(x => x.Gpus) < need) continue;
            // Least lost work first, then the most GPUs here, then the lowest id: the same choice on every run.
            list.Sort((a, b) => a.Victim.Lost != b.Victim.Lost ? a.Victim.Lost.CompareTo(b.Victim.Lost)
                : a.Gpus != b.Gpus ? b.Gpus.CompareTo(a.Gpus) : a.Victim.Job.Spec.Id.CompareTo(b.Victim.Job.Spec.Id));
            // A tenant keeps its guarantee: a choice that takes from other tenants only the work they run
            // beyond theirs is preferred to one that takes more, whatever work it loses.
            var chosen = ChooseVictims(list, need, powerNeed, pool, job.Tenant, spare: true);
            var pushes = chosen is null;
            chosen ??= ChooseVictims(list, need, powerNeed, pool, job.Tenant, spare: false);
            if (chosen is null) continue;
            var cost = (pushes, chosen.Sum(x => x.Victim.Lost), chosen.Sum(x => x.Victim.Job.Spec.Gpus));
            if ((!cost.pushes && bestCost.Pushes) || (cost.pushes == bestCost.Pushes
                && (cost.Item2 < bestCost.Lost || (cost.Item2 == bestCost.Lost && cost.Item3 < bestCost.Gpus))))
            {
                best = chosen;
                bestCost = cost;
            }
        }
        if (best is null) return NoVictims(c, now);
        // More victims than a cycle may ever evict: reclaim cannot help this class now; it waits for its reservation.
        if (best.Count > _options.MaxEvictionsPerCycle) return NoVictims(c, now);
        if (_cycle.Preemptions.Count + best.Count > _options.MaxEvictionsPerCycle) return null;

        long grace = 0;
        var requested = job.FirstBlockedAt ?? now;
        foreach (var (victim, _) in best)
        {
            var v = victim.Job;
            grace = Math.Max(grace, v.PriorityClass.GraceSeconds);
            _cycle.Preemptions.Add(new PreemptionDecision(v.Spec.Id, v.Spec.Tenant, job.Spec.Id, job.Spec.Tenant, v.Spec.Gpus,
                victim.Lost, v.PriorityClass.GraceSeconds, victim.Kind, requested));
            StopRunning(v);
            _generation++;
            SetReason(v, PendingReason.Preempted, job.Spec.Id, null);
            _requeue.Add(v);
        }
        var placed = _placer.TryPlace(c);
        return placed is { } p ? (p.Pool, p.Gpus, grace) : null;
    }

    /// <summary>
    /// Victims from <paramref name="list"/> (sorted, least lost work first) that free <paramref name="need"/>
    /// GPUs of the unit and <paramref name="powerNeed"/> GPUs of its pool (power), or null. With
    /// <paramref name="spare"/>, they take from no other tenant more than it runs beyond its guarantee:
    /// greedily, and if that fails, for a unit of at most <see cref="ExhaustiveVictims"/> candidates by
    /// trying every set, least lost work first.
    /// </summary>
    private List<(Victim Victim, int Gpus)>? ChooseVictims(List<(Victim Victim, int Gpus)> list, int need, int powerNeed, int pool, int preemptorTenant, bool spare)
    {
        var chosen = new List<(Victim Victim, int Gpus)>();
        int freed = 0, powerFreed = 0;
        _taken.Clear();
        foreach (var x in list)
        {
            if (freed >= need && powerFreed >= powerNeed) break;
            if (spare && !Take(x.Victim.Job, preemptorTenant)) continue;
            chosen.Add(x);
            freed += x.Gpus;
            powerFreed += InPool(x.Victim.Job, pool);
        }
        if (freed >= need && powerFreed >= powerNeed)
        {
            // Never evict more than needed: drop every victim the others already cover, costliest first.
            for (var i = chosen.Count - 1; i >= 0; i--)
            {
                var inPool = InPool(chosen[i].Victim.Job, pool);
                if (freed - chosen[i].Gpus < need || powerFreed - inPool < powerNeed) continue;
                freed -= chosen[i].Gpus;
                powerFreed -= inPool;
                chosen.RemoveAt(i);
            }
            return chosen;
        }
        if (!spare || list.Count > ExhaustiveVictims) return null;
        // No set spares guarantees when the victims that each fit their tenant's surplus do not free enough together.
        (freed, powerFreed) = (0, 0);
        foreach (var x in list)
        {
            if (Guarded(x.Victim.Job, preemptorTenant) && x.Victim.Job.Spec.Gpus > Surplus(x.Victim.Job)) continue;
            freed += x.Gpus;
            powerFreed += InPool(x.Victim.Job, pool);
        }
        if (freed < need || powerFreed < powerNeed) return null;
        List<(Victim Victim, int Gpus)>? best = null;
        (double Lost, int Gpus) bestCost = (double.MaxValue, int.MaxValue);
        for (var set = 1; set < 1 << list.Count; set++)
        {
            (freed, powerFreed) = (0, 0);
            double lost = 0;
            var gpus = 0;
            var spares = true;
            _taken.Clear();
            for (var i = 0; i < list.Count && spares; i++)
            {
                if ((set & (1 << i)) == 0) continue;
                var v = list[i].Victim;
                spares = Take(v.Job, preemptorTenant);
                freed += list[i].Gpus;
                powerFreed += InPool(v.Job, pool);
                lost += v.Lost;
                gpus += v.Job.Spec.Gpus;
            }
            if (!spares || freed < need || powerFreed < powerNeed || lost > bestCost.Lost || (lost == bestCost.Lost && gpus >= bestCost.Gpus)) continue;
            best = [.. list.Where((_, i) => (set & (1 << i)) != 0)];
            bestCost = (lost, gpus);
        }
        return best;
    }

    private int InPool(JobRecord victim, int pool)
    {
        var gpus = 0;
        foreach (var a in victim.Gpus!) if (_fleet.NodePool(a.Node) == pool) gpus += a.Count;
        return gpus;
    }

    /// <summary>Best-effort work is never guaranteed, and the preemptor's own lower classes are its own to give up.</summary>
    private static bool Guarded(JobRecord victim, int preemptorTenant) => victim.Tenant != preemptorTenant && !victim.BestEffortRun;

    /// <summary>GPUs of the victim's model its tenant runs beyond its guarantee, best-effort work aside: what a reclaim may take.</summary>
    private int Surplus(JobRecord victim)
    {
        var key = (victim.Tenant, victim.Model);
        if (_surplus.TryGetValue(key, out var surplus)) return surplus;
        var use = 0;
        foreach (var r in _tenantRunning[victim.Tenant]) if (r.Model == victim.Model && !r.BestEffortRun) use += r.Spec.Gpus;
        return _surplus[key] = Math.Max(0, use - _ledger.Guarantee(victim.Tenant, victim.Model));
    }

    /// <summary>Counts a guarded victim against its tenant's surplus; false when the choice would then take more than the surplus.</summary>
    private bool Take(JobRecord victim, int preemptorTenant)
    {
        if (!Guarded(victim, preemptorTenant)) return true;
        var key = (victim.Tenant, victim.Model);
        var taken = _taken.GetValueOrDefault(key) + victim.Spec.Gpus;
        if (taken > Surplus(victim)) return false;
        _taken[key] = taken;
        return true;
    }

    /// <summary>Most candidate victims in one unit for which every set is tried (2^10 sets) when the greedy choice cannot spare guarantees.</summary>
    private const int ExhaustiveVictims = 10;

    private (int Pool, GpuAllocation[] Gpus, long Delay)? NoVictims(JobClass c, long now)
    {
        c.NoVictimsUntil = now + _options.PreemptionRetrySeconds;
        return null;
    }

    private bool BorrowingAny(int tenant, ulong models)
    {
        for (var bits = models; bits != 0; bits &= bits - 1)
            if (_ledger.Borrowing(tenant, System.Numerics.BitOperations.TrailingZeroCount(bits))) return true;
        return false;
    }

    /// <summary>Work an eviction loses: GPUs × time since the last checkpoint (since the start without checkpoints).</summary>
    private static double LostGpuSeconds(JobRecord v, long now)
    {
        var ran = now - v.StartTime;
        var interval = v.Spec.CheckpointIntervalSeconds;
        var sinceCheckpoint = interval > 0 ? ran % interval : ran;
        return (double)v.Spec.Gpus * sinceCheckpoint;
    }

    private readonly record struct Victim(JobRecord Job, PreemptionKind Kind, double Lost);

    private int ModelUsable(int model)
    {
        var sum = 0;
        for (var p = 0; p < _fleet.PoolCount; p++) if (_fleet.PoolModel(p) == model) sum += _state.PoolUsable(p);
        return sum;
    }

    private void MarkFailed(JobClass c, bool shortToo, PendingReason reason, long? blocking)
    {
        c.LongFailEpoch = _epoch;
        c.FailReason = reason;
        c.FailBlockingJob = blocking;
        if (!shortToo || c.ShortFailEpoch == _epoch) return;
        c.ShortFailEpoch = _epoch;
        // Every class with pending jobs has failed outright: nothing further can start this cycle —
        // unless jobs may still evict others. A class made for a quota's part of a job's models has
        // no pending members of its own and is not counted.
        if (c.PendingCount > 0 && ++_cycle.ExhaustedClasses >= _activeClasses && !PreemptionLeft)
            Stop(PendingReason.NoFreeGpus, null, classReasonsOnly: true);
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

    private void AddPending(JobRecord job)
    {
        _pending.Add(job);
        _tenantQueues[job.Tenant].Add(job);
        if (job.Spec.Gpus >= _options.LargeGangGpus) _largePending.Add(job);
        if (job.Class.PendingCount++ == 0) _activeClasses++;
        var byClass = _tenantPendingByClass[job.Tenant];
        byClass[(job.Class.Id, job.Priority)] = byClass.GetValueOrDefault((job.Class.Id, job.Priority)) + 1;
    }

    private void RemovePending(JobRecord job)
    {
        _pending.Remove(job);
        _tenantQueues[job.Tenant].Remove(job);
        if (job.Spec.Gpus >= _options.LargeGangGpus) _largePending.Remove(job);
        if (--job.Class.PendingCount == 0) _activeClasses--;
        var byClass = _tenantPendingByClass[job.Tenant];
        if (--byClass[(job.Class.Id, job.Priority)] == 0) byClass.Remove((job.Class.Id, job.Priority));
    }

    /// <summary>Per-tenant lists follow the tenant tree, which grows when a policy without quotas meets a new tenant.</summary>
    private void GrowTenants()
    {
        while (_tenantQueues.Count < _ledger.NodeCount)
        {
            _tenantQueues.Add(new SortedSet<JobRecord>(PendingOrder.Instance));
            _tenantRunning.Add([]);
            _tenantBestEffort.Add(0);
            _tenantPreemptible.Add(0);
            _tenantPendingByClass.Add([]);
            _tenantSettled.Add((-1, -1, 0));
        }
    }

    private JobClass ClassFor(int gpus, ulong mask, TopologyNeed need, int site, int dataSite)
    {
        if (_classes.TryGetValue((gpus, mask, need, site, dataSite), out var existing)) return existing;
        var pools = new List<int>();
        var levels = new List<PlacementLevel>();
        var preference = new List<int>();
        var position = new int[_fleet.PoolCount];
        Array.Fill(position, -1);
        var largest = 0;
        var powerBound = -1;
        for (var p = 0; p < _fleet.PoolCount; p++)
        {
            var model = _fleet.PoolModel(p);
            if ((mask & (1UL << model)) == 0) continue;
            if (site >= 0 && _fleet.PoolSite(p) != site) continue;
            var level = LevelIn(p, gpus, need, mask);
            largest = Math.Max(largest, need switch
            {
                TopologyNeed.Node => _fleet.PoolMaxNodeGpus(p),
                TopologyNeed.Domain => _fleet.PoolMaxDomainGpus(p),
                TopologyNeed.Anywhere => ModelGpus(model),
                _ => _fleet.PoolGpus(p),
            });
            if (level == PlacementLevel.Impossible) continue;
            if (level != PlacementLevel.MultiPool && gpus > _state.PoolMaxPowerRoom(p))
            {
                powerBound = Math.Max(powerBound, _state.PoolMaxPowerRoom(p));
                continue;
            }
            position[p] = pools.Count;
            pools.Add(p);
            levels.Add(level);
            preference.Add(SitePreference(dataSite, _fleet.PoolSite(p)));
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
            impossible = powerBound >= 0
                ? $"gpus: {gpus} GPUs can never run together under the power caps of the sites that have them (at most {powerBound})"
                : largest == 0
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
            Preference = [.. preference],
            Site = site,
            DataSite = dataSite,
            ImpossibleReason = impossible,
        };
        _classes.Add((gpus, mask, need, site, dataSite), jobClass);
        return jobClass;
    }

    /// <summary>
    /// Rank of a site for a job whose data lives at <paramref name="dataSite"/>: 0 there, then sites by
    /// the bandwidth of their best route from it, fastest first; sites without a route last. All 0 when
    /// the job has no data site.
    /// </summary>
    private int SitePreference(int dataSite, int site)
    {
        if (dataSite < 0 || site == dataSite) return 0;
        var bandwidth = _fleet.SiteBandwidthGbps(dataSite, site);
        var rank = 1;
        for (var s = 0; s < _fleet.Sites.Count; s++)
            if (s != dataSite && _fleet.SiteBandwidthGbps(dataSite, s) > bandwidth) rank++;
        return bandwidth > 0 ? rank : int.MaxValue - 1;
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
        var text = reason switch
        {
            PendingReason.NoFreeGpus => $"waiting for {need}: not enough free GPUs of model {ModelNames(job.Class.ModelMask)}",
            PendingReason.Fragmented => $"waiting for {need} in one {(job.Class.Levels.Min() == PlacementLevel.Node ? "node" : "NVLink domain")}: enough are free, but scattered",
            PendingReason.Reserved => $"next to start: {need} reserved, starting by t={estimate}",
            PendingReason.HeldForReservation => $"waiting: free GPUs are held for job {blocking}, and this job would run past its start",
            PendingReason.BehindHead => $"waiting behind job {blocking} (first in, first out)",
            PendingReason.BeyondBackfillWindow => "waiting: the last cycle reached its backfill window before this job",
            PendingReason.GuaranteeInUse => $"waiting for {need}: tenant '{job.Spec.Tenant}' uses its whole guarantee (quota exhausted) and this policy does not lend",
            PendingReason.BorrowLimitReached => $"waiting for {need}: tenant '{job.Spec.Tenant}' would pass its borrowing limit (quota exhausted)",
            PendingReason.KeptForLenders => $"waiting for {need}: the idle GPUs are guaranteed to tenants that do not lend them to '{job.Spec.Tenant}'",
            PendingReason.GrantExhausted => $"held: the grants of '{job.Spec.Tenant}' have no GPU-hours left" + (estimate is null ? "" : $"; the next grant opens at t={estimate}"),
            PendingReason.SitePowerCap => $"waiting for {need}: GPUs are free, but starting it would take their site past its power cap",
            PendingReason.Preempted => $"preempted by job {blocking} and queued again",
            _ => "waiting for the next scheduling cycle",
        };
        return estimate is null || reason is PendingReason.Reserved or PendingReason.GrantExhausted ? text : $"{text}; earliest start t={estimate}";
    }

    private string ModelNames(ulong mask) =>
        string.Join(" or ", _fleet.Models.Where((_, i) => (mask & (1UL << i)) != 0).Select(m => m.Name));

    private sealed class Cycle(long now)
    {
        public List<PreemptionDecision> Preemptions { get; } = [];
        public int PreemptionAttempts { get; set; }
        public long Now { get; } = now;
        public List<PlacementDecision> Placements { get; } = [];
        public Reservation? Reservation { get; set; }
        public int Attempts { get; set; }
        public int BackfillAttempts { get; set; }
        public int ExhaustedClasses { get; set; }
        public bool Stopped { get; set; }
    }
}
