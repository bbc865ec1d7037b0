using System.Numerics;
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
/// <para>A cycle, in order (the phases of <see cref="RunCycle"/>):</para>
/// <list type="number">
/// <item><c>ChargeAccruedUse</c>: charge fair-share use and grants accrued since the last call;</item>
/// <item><c>GiveOverdueLargeGangFirstTurn</c>: a large gang that has waited too long goes first, so it holds
/// the reservation until it starts;</item>
/// <item><c>WalkPending</c>: walk pending jobs in the policy's order (<see cref="SubmitOrderWalk"/>, or
/// <see cref="FairShareWalk"/>: owners, then their tenants, by decayed use over weight), skipping classes
/// already known not to fit. Each job (<c>Consider</c>) passes its grant and quota (within its guarantee,
/// or borrowing within borrow and lend limits, <see cref="QuotaGate"/>); is placed if it fits (packing,
/// <see cref="GangPlacer"/>, counting only GPUs that come with the CPU and memory it asks for; a job of GPU
/// slices goes to <see cref="SliceAllocator"/> instead); else, within its guarantee, reclaims lent GPUs, or preempts lower preemptible
/// classes of its tenant (<see cref="Preemptor"/>: whole gangs, the fewest that free enough, least work lost
/// first, as one transaction); else at the first job that does not fit the walk either stops (<c>fifo</c>) or
/// reserves for it (EASY) and holds the free GPUs it will need, and after the reservation only jobs that fit
/// outside the held GPUs, or that end before the shadow time, start, up to the backfill window;</item>
/// <item><c>ReleaseHolds</c>: drop the reservation's holds;</item>
/// <item><c>RemovePlacedFromPending</c>: the placed jobs leave the pending queues (not while they were walked);</item>
/// <item><c>RequeueEvicted</c>: evicted jobs queue again under their first submission time.</item>
/// </list>
/// Pending jobs not visited (their class failed, or the walk stopped) get their reason lazily
/// (<see cref="PendingReasonExplainer"/>), so a cycle over 100,000 pending jobs costs what it looks at.
/// </summary>
public sealed class FleetScheduler
{
    // Under a policy without quotas, a tenant not yet seen would become an owner of its own on submission.
    private const int TenantToBeAdded = -2;

    private readonly Fleet _fleet;
    private readonly SchedulerOptions _options;
    private readonly ClusterState _state;
    private readonly GangPlacer _placer;
    private readonly ShadowPlanner _shadow;
    private readonly TenantLedger _ledger;
    private readonly JobClassCatalog _classes;
    private readonly QuotaGate _quotas;
    private readonly PendingQueues _pending;
    private readonly RunningJobs _running;
    private readonly SettledJobKinds _settled;
    private readonly Preemptor _preemptor;
    private readonly PendingReasonExplainer _explainer;
    private readonly SliceAllocator _slices;
    private readonly IPendingWalk _walk;
    private readonly Func<JobRecord, bool> _consider;
    private readonly Dictionary<long, JobRecord> _jobs = [];
    private long _epoch;
    private SchedulingCycle _cycle = new(0, 0);

    /// <summary>Creates a scheduler over an empty fleet.</summary>
    public FleetScheduler(Fleet fleet, SchedulerOptions? options = null)
    {
        _fleet = fleet;
        _options = options ?? new SchedulerOptions();
        if (_options.BackfillWindow < 1) throw new ArgumentOutOfRangeException(nameof(options), "BackfillWindow must be at least 1");
        if (_options.FairShareHalfLifeSeconds < 1) throw new ArgumentOutOfRangeException(nameof(options), "FairShareHalfLifeSeconds must be at least 1");
        _state = new ClusterState(fleet);
        _shadow = new ShadowPlanner(_state);
        _ledger = new TenantLedger(fleet, _options.Tenants, _options.TenantShares);
        if (_options.Policy.Quotas != QuotaMode.None && !_ledger.HasTree)
            throw new ArgumentException($"policy '{_options.Policy.Name}' needs a tenant tree with guarantees", nameof(options));
        _classes = new JobClassCatalog(fleet, _state);
        _quotas = new QuotaGate(fleet, _state, _ledger, _classes, _options.Policy.Quotas);
        _pending = new PendingQueues(_options.LargeGangGpus, byKind: _options.Policy.Quotas != QuotaMode.None);
        _slices = new SliceAllocator(fleet, _state, _classes, _options.SlicePacking);
        _placer = new GangPlacer(_state, _slices);
        _running = new RunningJobs(_state, _ledger, _quotas, _slices);
        _settled = new SettledJobKinds(_pending);
        _preemptor = new Preemptor(fleet, _state, _placer, _ledger, _running, _quotas, _settled, _options);
        _explainer = new PendingReasonExplainer(fleet, _ledger, _running, _shadow);
        _walk = _options.Policy.Order == QueueOrder.Submit
            ? new SubmitOrderWalk(_pending)
            : new FairShareWalk(_pending, _ledger, _settled, _options.FairShareHalfLifeSeconds);
        _consider = Consider;
        Tenants = new TenantView(_ledger);
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
    /// <summary>Classes of jobs the scheduler keeps, one per distinct shape (GPUs, models, topology, site, data site, sites) it has met, checks included.</summary>
    public int JobClassCount => _classes.Count;
    /// <summary>The tenant tree: nodes, guarantees, use, grants and fair-share use.</summary>
    public TenantView Tenants { get; }

    /// <summary>The slices a running job holds (empty for a job of whole GPUs, or one not running).</summary>
    public IReadOnlyList<SlicePlacement> Slices(long jobId) => _slices.SlicesOf(jobId);

    /// <summary>GPUs running slices now (each counts as busy).</summary>
    public int SharedGpuCount => _slices.SharedGpuCount;

    /// <summary>
    /// Free GPU capacity and the part of it that the mix of requests submitted so far could not use, in
    /// GPU-equivalents (see <see cref="SlicePacking.FragmentationAware"/>). Linear in the fleet's nodes.
    /// </summary>
    public (double FreeGpuEquivalents, double FragmentedGpuEquivalents) Fragmentation() => _slices.Fragmentation();

    /// <summary>
    /// Free GPUs that no pending job could take for lack of CPU cores or memory on their nodes (0 when nothing
    /// waits). Linear in the fleet's nodes.
    /// </summary>
    public int StrandedGpus()
    {
        var demands = new List<(JobClass Class, NodeDemand Demand)>();
        foreach (var c in _classes.All) if (c.PendingCount > 0) demands.Add((c, c.Demand));
        if (demands.Count == 0 || demands.All(d => d.Demand.IsNone)) return 0;
        var stranded = 0;
        for (var node = 0; node < _fleet.NodeCount; node++)
        {
            var free = _state.NodeFree(node);
            if (free == 0) continue;
            var pool = _fleet.NodePool(node);
            var applies = false;
            var takes = false;
            foreach (var (c, demand) in demands)
            {
                if (c.PoolPosition[pool] < 0) continue;
                applies = true;
                if (_state.HasRoomFor(node, 1, demand)) { takes = true; break; }
            }
            if (applies && !takes) stranded += free;
        }
        return stranded;
    }

    /// <summary>The eviction step, exposed to tests so that they can force its placement to fail.</summary>
    internal Preemptor Preemptor => _preemptor;

    /// <summary>The slice allocator, for tests that compare its shortcuts with the work they save.</summary>
    internal SliceAllocator SliceAllocator => _slices;

    /// <summary>The pending walk, for tests that compare its shortcuts with the visits they save.</summary>
    internal IPendingWalk PendingWalk => _walk;

    /// <summary>
    /// Validates a job exactly as <see cref="Submit"/> does — same rejections, same messages, same
    /// <see cref="SubmitResult.ExceedsGuarantee"/> — without queuing it or changing anything a decision
    /// reads. Accepted means <see cref="Submit"/> would queue it now.
    /// </summary>
    public SubmitResult Check(JobSpec spec) => Admit(spec, queue: false);

    /// <summary>Queues a job, or rejects it with a reason when it can never run on this fleet: <see cref="Check"/>, then queue.</summary>
    public SubmitResult Submit(JobSpec spec) => Admit(spec, queue: true);

    private SubmitResult Admit(JobSpec spec, bool queue)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Gpus < 1) return SubmitResult.Rejected(spec.Id, "gpus must be at least 1");
        if (spec.TimeLimitSeconds < 1) return SubmitResult.Rejected(spec.Id, "timeLimitSeconds must be at least 1");
        if (JobFieldRules.PerGpuAmountProblem(spec.CpusPerGpu) is { } cpus) return SubmitResult.Rejected(spec.Id, $"cpusPerGpu: {cpus}");
        if (JobFieldRules.PerGpuAmountProblem(spec.MemoryGbPerGpu) is { } memory) return SubmitResult.Rejected(spec.Id, $"memoryGbPerGpu: {memory}");
        if (spec.Slice is { } requested && JobFieldRules.SliceProblem(requested) is { } sliceProblem) return SubmitResult.Rejected(spec.Id, $"slice: {sliceProblem}");
        if (string.IsNullOrWhiteSpace(spec.Tenant)) return SubmitResult.Rejected(spec.Id, "tenant must not be empty");
        if (_jobs.ContainsKey(spec.Id)) return SubmitResult.Rejected(spec.Id, $"job {spec.Id} already exists");
        var open = _options.Policy.Quotas == QuotaMode.None;
        int leaf;
        if (queue)
        {
            // A tenant met for the first time joins the tree here, even if a later check rejects the job.
            leaf = _ledger.LeafFor(spec.Tenant, open);
            GrowTenants();
        }
        else
        {
            var node = _ledger.NodeOf(spec.Tenant);
            leaf = node >= 0 ? (_ledger.IsLeaf(node) ? node : -1) : open ? TenantToBeAdded : -1;
        }
        if (leaf == -1) return SubmitResult.Rejected(spec.Id, $"tenant: '{spec.Tenant}' is not a project (leaf) of the tenant tree");
        var priorityClass = spec.PriorityClass is null ? _ledger.DefaultClass : _ledger.Classes.FirstOrDefault(c => c.Name == spec.PriorityClass);
        if (priorityClass is null)
            return SubmitResult.Rejected(spec.Id, $"priorityClass: unknown class '{spec.PriorityClass}' (known: {string.Join(", ", _ledger.Classes.Select(c => c.Name))})");
        var site = spec.Site is null ? -1 : _fleet.SiteIndex(spec.Site);
        if (spec.Site is not null && site < 0) return SubmitResult.Rejected(spec.Id, $"site: unknown site '{spec.Site}'");
        var dataSite = spec.DataSite is null ? -1 : _fleet.SiteIndex(spec.DataSite);
        if (spec.DataSite is not null && dataSite < 0) return SubmitResult.Rejected(spec.Id, $"dataSite: unknown site '{spec.DataSite}'");
        int[]? sites = null;
        if (spec.Sites is { } listed)
        {
            if (spec.Site is not null) return SubmitResult.Rejected(spec.Id, "sites: give site or sites, not both");
            if (listed.Count == 0) return SubmitResult.Rejected(spec.Id, "sites: must name at least one site (or be left out: any site)");
            sites = new int[listed.Count];
            for (var i = 0; i < listed.Count; i++)
            {
                sites[i] = _fleet.SiteIndex(listed[i]);
                if (sites[i] < 0) return SubmitResult.Rejected(spec.Id, $"sites: unknown site '{listed[i]}'");
                if (Array.IndexOf(sites, sites[i], 0, i) >= 0) return SubmitResult.Rejected(spec.Id, $"sites: site '{listed[i]}' is listed twice");
            }
        }
        var mask = 0UL;
        foreach (var name in spec.Models)
        {
            var m = _fleet.ModelIndex(name);
            if (m < 0) return SubmitResult.Rejected(spec.Id, $"models: unknown GPU model '{name}' (this fleet has {string.Join(", ", _fleet.Models.Select(x => x.Name))})");
            mask |= 1UL << m;
        }
        if (mask == 0) mask = _classes.AllModels;
        var demand = new NodeDemand(spec.CpusPerGpu, spec.MemoryGbPerGpu);
        var jobClass = _classes.ClassFor(spec.Gpus, mask, spec.Topology, site, dataSite, demand, spec.Slice is null ? null : _classes.ShapeOf(spec.Slice), sites);
        if (jobClass.ImpossibleReason is { } why) return SubmitResult.Rejected(spec.Id, why);
        // Only policies with quotas check them, and those never add tenants: the leaf is known here.
        if (!open && !_quotas.FitsSomeQuota(leaf, jobClass))
            return new SubmitResult(spec.Id, false, _options.Policy.Quotas == QuotaMode.Confined
                ? $"gpus: {spec.Gpus} GPUs exceed tenant '{spec.Tenant}''s whole guarantee of an acceptable model; under '{_options.Policy.Name}' it can never run"
                : $"gpus: {spec.Gpus} GPUs exceed tenant '{spec.Tenant}''s guarantee plus borrowing limit of every acceptable model; it can never run",
                ExceedsGuarantee: true);
        if (!queue) return SubmitResult.Queued(spec.Id);

        var job = new JobRecord(spec, leaf, jobClass, priorityClass);
        _jobs.Add(spec.Id, job);
        _pending.Add(job);
        jobClass.Submitted++;
        _slices.NoteSubmitted();
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
            ChargeAccruedUse(now);
            _running.Stop(job);
        }
        else
        {
            _pending.Remove(job);
        }
        return true;
    }

    /// <summary>
    /// A running job whose run was lost (its node failed, its cluster no longer has it) queues again under
    /// its first submission time, as an evicted job does; its GPUs come free unless they are out of service.
    /// False for a job that is not running here.
    /// </summary>
    public bool Requeue(long jobId, long now)
    {
        if (!_jobs.TryGetValue(jobId, out var job) || !job.Running) return false;
        ChargeAccruedUse(now);
        _running.Stop(job);
        _pending.Add(job);
        return true;
    }

    /// <summary>
    /// Takes up a job that already runs on a cluster (a new leader adopting what an executor reports):
    /// checked as <see cref="Submit"/> checks it, then running since <paramref name="startedAt"/> on exactly
    /// <paramref name="gpus"/>. Rejected, and nothing changed, when the job would be rejected, when the GPUs
    /// span pools, or when any of them is already taken here.
    /// </summary>
    /// <remarks>
    /// Example: after a crash, Slurm still runs job 7 on GPUs 0-3 of node a-0002; the new leader adopts it
    /// there, so that the next cycle neither places it again nor gives those GPUs to another job.
    /// </remarks>
    public SubmitResult Adopt(JobSpec spec, IReadOnlyList<GpuAllocation> gpus, long startedAt)
    {
        ArgumentNullException.ThrowIfNull(gpus);
        if (spec.Slice is not null) return SubmitResult.Rejected(spec.Id, "slice: a running job of GPU slices is adopted with its slices");
        if (gpus.Count == 0 || gpus.Sum(g => g.Count) != spec.Gpus)
            return SubmitResult.Rejected(spec.Id, $"gpus: the run holds {gpus.Sum(g => g.Count)} GPUs, the job asks for {spec.Gpus}");
        var pool = _fleet.NodePool(gpus[0].Node);
        if (gpus.Any(g => _fleet.NodePool(g.Node) != pool)) return SubmitResult.Rejected(spec.Id, "the run's nodes are in more than one pool");
        var result = Submit(spec);
        if (!result.Accepted) return result;
        var job = _jobs[spec.Id];
        var taken = 0;
        try
        {
            for (; taken < gpus.Count; taken++) _state.Restore(gpus[taken], job.Class.Demand);
        }
        catch (InvalidOperationException e)
        {
            for (var i = taken - 1; i >= 0; i--) _state.Release(gpus[i], job.Class.Demand);
            _pending.Remove(job);
            _jobs.Remove(spec.Id);
            return SubmitResult.Rejected(spec.Id, $"the run's GPUs are not free here ({e.Message})");
        }
        _pending.Remove(job);
        _running.Start(job, _fleet.PoolModel(pool), [.. gpus], startedAt, 0);
        return result;
    }

    /// <summary>
    /// Takes up a job of GPU slices that already runs on a cluster, on exactly the instances and shares it holds
    /// (<paramref name="slices"/>, as its placement named them): checked as <see cref="Submit"/> checks it, then
    /// running since <paramref name="startedAt"/>, charged its slices' compute. Rejected, and nothing changed, when
    /// the job would be rejected or its slices cannot be held here (see <c>SliceAllocator.Adopt</c>).
    /// </summary>
    /// <remarks>
    /// Example: job 9 runs two <c>1g.23gb</c> instances, at memory slices 0 and 1 of GPU 3 of node b-0001, when
    /// the leader dies. The new leader adopts it there: GPU 3 is busy with a layout of those two instances, and
    /// takes no other slice until the job ends and the GPU is laid out again.
    /// </remarks>
    public SubmitResult Adopt(JobSpec spec, IReadOnlyList<SlicePlacement> slices, long startedAt)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (spec.Slice is null) return SubmitResult.Rejected(spec.Id, "slice: the job asks for whole GPUs");
        if (slices.Count == 0) return SubmitResult.Rejected(spec.Id, "the run holds no slices");
        var result = Submit(spec);
        if (!result.Accepted) return result;
        var job = _jobs[spec.Id];
        var pool = (uint)slices[0].Node < (uint)_fleet.NodeCount ? _fleet.NodePool(slices[0].Node) : -1;
        string? problem = "its node is not in a pool the job may use";
        if (!job.Class.Pools.Contains(pool) || _slices.Adopt(job.Class, spec.Id, slices, startedAt, out problem) is not { } held)
        {
            _pending.Remove(job);
            _jobs.Remove(spec.Id);
            return SubmitResult.Rejected(spec.Id, $"the run's slices cannot be held here ({problem})");
        }
        _pending.Remove(job);
        _running.Start(job, _fleet.PoolModel(pool), held.Gpus, startedAt, 0, held.Units);
        return result;
    }

    /// <summary>
    /// Takes <paramref name="count"/> GPUs of a node out of service: all of them for a node that is down or
    /// drained, as many as they hold for GPUs that the cluster's own users took; 0 puts them all back.
    /// Nothing is placed on GPUs out of service; jobs already running there run on until they end or
    /// their run is reported lost. GPUs no job uses go first, highest-numbered first. Between cycles.
    /// </summary>
    public void SetOutOfService(int node, int count)
    {
        var gpus = _fleet.NodeGpus(node);
        count = Math.Clamp(count, 0, gpus);
        if (BitOperations.PopCount(_state.NodeOutMask(node)) == count) return;
        var used = _state.NodeUsedMask(node);
        var mask = 0UL;
        for (var pass = 0; pass < 2; pass++)
            for (var i = gpus - 1; i >= 0 && BitOperations.PopCount(mask) < count; i--)
                if (((used >> i) & 1) == (ulong)pass) mask |= 1UL << i;
        _state.SetOutOfService(node, mask);
        _quotas.Invalidate();
    }

    /// <summary>GPUs out of service per pool (<see cref="SetOutOfService"/>).</summary>
    public ReadOnlySpan<int> OutOfServiceByPool => _state.OutOfServiceByPool;

    /// <summary>GPUs of a node out of service (<see cref="SetOutOfService"/>).</summary>
    public int OutOfService(int node) => BitOperations.PopCount(_state.NodeOutMask(node));

    /// <summary>The GPUs a running job holds, or null.</summary>
    public IReadOnlyList<GpuAllocation>? Allocation(long jobId) =>
        _jobs.TryGetValue(jobId, out var job) && job.Running ? job.Gpus : null;

    /// <summary>Runs one scheduling cycle at time <paramref name="now"/> and commits its placements.</summary>
    public CycleResult RunCycle(long now)
    {
        _cycle = new SchedulingCycle(++_epoch, now);
        ChargeAccruedUse(now);              // 1
        GiveOverdueLargeGangFirstTurn();    // 2
        WalkPending();                      // 3
        ReleaseHolds();                     // 4
        RemovePlacedFromPending();          // 5
        RequeueEvicted();                   // 6
        return new CycleResult(now, _cycle.Placements, _cycle.Reservation, _cycle.Attempts, _pending.Count, _cycle.Preemptions);
    }

    /// <summary>Why a pending job waits, in codes and in words; null for a job not pending here.</summary>
    public PendingExplanation? Explain(long jobId) =>
        _jobs.TryGetValue(jobId, out var job) && !job.Running ? _explainer.Explain(job, _cycle, _settled) : null;

    /// <summary>Phase 1: brings fair-share use (tracked only under a fair-share order) and grant balances up to <paramref name="now"/>.</summary>
    private void ChargeAccruedUse(long now)
    {
        if (_options.Policy.Order == QueueOrder.FairShare) _ledger.Accrue(now, _options.FairShareHalfLifeSeconds);
        _ledger.ChargeGrants(now);
    }

    /// <summary>
    /// Phase 2: a large gang that waited too long goes first: it places, or it takes the reservation and
    /// everything after it only backfills, so thousands of small arrivals cannot starve it.
    /// </summary>
    private void GiveOverdueLargeGangFirstTurn()
    {
        if (_options.Policy.Backfill && _pending.OldestLargeGang is { } gang && _cycle.Now - gang.Spec.SubmitTime >= _options.LargeGangReserveAfterSeconds)
            Consider(gang);
    }

    /// <summary>Phase 3: every pending job, in the policy's order, is considered until the cycle stops.</summary>
    private void WalkPending()
    {
        if (!_cycle.Stopped) _walk.Walk(_cycle, _consider);
    }

    /// <summary>Phase 4: the reservation's held GPUs are free again (quota answers that counted them may change).</summary>
    private void ReleaseHolds()
    {
        _state.ClearHolds();
        _quotas.Invalidate();
    }

    /// <summary>Phase 5: placed jobs leave the pending queues, which the walk could not change under itself.</summary>
    private void RemovePlacedFromPending()
    {
        foreach (var decision in _cycle.Placements) _pending.Remove(_jobs[decision.JobId]);
    }

    /// <summary>Phase 6: evicted jobs queue again under their first submission time: they keep their place in line.</summary>
    private void RequeueEvicted()
    {
        foreach (var victim in _cycle.Evicted) _pending.Add(victim);
    }

    /// <summary>Tries one job; true when it was placed. Grant and quota first, then the GPUs.</summary>
    private bool Consider(JobRecord job)
    {
        if (job.Running) return false;
        var bestEffort = job.PriorityClass.BestEffort;
        switch (_ledger.GrantState(job.Tenant, _cycle.Now).Standing)
        {
            case GrantStanding.ExhaustedHold:
                job.SetReason(_epoch, PendingReason.GrantExhausted, null, null);
                _settled.Settle(job, _epoch, PendingReason.GrantExhausted, null);
                return false;
            case GrantStanding.ExhaustedBestEffort:
                bestEffort = true;
                break;
        }

        var c = job.Class;
        var guaranteed = false;
        if (_options.Policy.Quotas != QuotaMode.None)
        {
            var quota = _quotas.For(job, bestEffort);
            if (quota.Class is null)
            {
                job.SetReason(_epoch, quota.Refusal, null, null);
                _settled.Settle(job, _epoch, quota.Refusal, null);
                return false;
            }
            c = quota.Class;
            guaranteed = quota.Guaranteed;
        }
        var placed = Attempt(job, c, guaranteed);
        if (placed)
        {
            _running.SetBestEffort(job, bestEffort);
            _pending.ClearBlocked(job);
        }
        else if (guaranteed)
        {
            _pending.MarkBlocked(job, _cycle.Now);
        }
        if (!placed && c != job.Class && job.ReasonEpoch != _epoch) job.SetReason(_epoch, c.FailReason, c.FailBlockingJob, null);
        // Settled when no member of the class can start in this cycle, long or short, nor evict its way in; or
        // when the long ones cannot, and the tenant's jobs of this kind are all long (none ends before the
        // reservation's shadow time, so none may backfill).
        if (!placed && _options.Policy.Quotas != QuotaMode.None && (c.ShortFailEpoch == _epoch || AllLongFailed(job, c))
            && !_preemptor.MayStillPreempt(job, c, guaranteed, _cycle))
        {
            _settled.Settle(job, _epoch, job.ReasonEpoch == _epoch ? job.Reason : c.FailReason, job.ReasonEpoch == _epoch ? job.BlockingJob : c.FailBlockingJob);
            // Its kind's other jobs wait within the guarantee as this one does, whether or not a walk visits them.
            if (guaranteed) _pending.MarkBlocked(job, _cycle.Now, wholeKind: true);
        }
        return placed;
    }

    private bool AllLongFailed(JobRecord job, JobClass c) =>
        c.LongFailEpoch == _epoch && _cycle.Reservation is { } r && _cycle.Now + _pending.ShortestLimit(job.Tenant, job.Class.Id, job.Priority) > r.ShadowTime;

    /// <summary>Places a job as a member of <paramref name="c"/> (its class, or the part of it its quota allows); true when placed.</summary>
    private bool Attempt(JobRecord job, JobClass c, bool guaranteed)
    {
        var reservation = _cycle.Reservation;
        var now = _cycle.Now;
        var isShort = reservation is not null && now + job.Limit <= reservation.ShadowTime;
        if (c.Slice is not null) return AttemptSlices(job, c, guaranteed);
        if (c.ShortFailEpoch == _epoch || (!isShort && c.LongFailEpoch == _epoch))
            return _preemptor.TryPreempt(job, c, guaranteed, _cycle) is { } byEviction && Commit(job, byEviction, guaranteed);
        if (reservation is not null && ++_cycle.BackfillAttempts > _options.BackfillWindow)
        {
            _cycle.Stop(PendingReason.BeyondBackfillWindow, null);
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
        if (_preemptor.TryPreempt(job, c, guaranteed, _cycle) is { } evicted) return Commit(job, evicted, guaranteed);
        if (reservation is null)
        {
            if (!_options.Policy.Backfill)
            {
                job.SetReason(_epoch, reason, null, null);
                _cycle.Stop(PendingReason.BehindHead, job.Spec.Id);
                return false;
            }
            var shadow = _shadow.ReserveFor(c, now, _running.ByEnd);
            if (shadow is { } s)
            {
                _cycle.Reservation = new Reservation(job.Spec.Id, s.ShadowTime, s.HeldGpus);
                _quotas.Invalidate();
                job.SetReason(_epoch, PendingReason.Reserved, null, s.ShadowTime);
                // Members of the head's class wait for the same GPUs, behind the head.
                c.FailReason = PendingReason.HeldForReservation;
                c.FailBlockingJob = job.Spec.Id;
            }
            else
            {
                job.SetReason(_epoch, reason, null, null);
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

    /// <summary>
    /// Places a job of GPU slices (<see cref="SliceAllocator"/>). Slices take no reservation and evict nobody:
    /// they wait for room, and under strict FIFO the walk stops behind them as behind any job.
    /// </summary>
    private bool AttemptSlices(JobRecord job, JobClass c, bool guaranteed)
    {
        if (c.ShortFailEpoch == _epoch) return false;
        if (_cycle.Reservation is not null && ++_cycle.BackfillAttempts > _options.BackfillWindow)
        {
            _cycle.Stop(PendingReason.BeyondBackfillWindow, null);
            return false;
        }
        _cycle.Attempts++;
        if (_slices.TryPlace(c, job.Spec.Id, _cycle.Now) is { } placed)
            return Commit(job, (placed.Pool, placed.Gpus, placed.Delay), guaranteed, placed.Slices, placed.Units);
        if (EvictForSlices(job, c, guaranteed) is { } evicted) return evicted;
        var reason = PendingReason.NoFreeSlice;
        var anyPower = false;
        foreach (var p in c.Pools) anyPower |= _state.PoolPowerRoom(p) > 0;
        if (!anyPower) reason = PendingReason.SitePowerCap;
        MarkFailed(c, shortToo: true, reason, null);
        job.SetReason(_epoch, reason, null, null);
        if (_cycle.Reservation is null && !_options.Policy.Backfill) _cycle.Stop(PendingReason.BehindHead, job.Spec.Id);
        return false;
    }

    /// <summary>
    /// A job of slices that does not fit evicts as a whole-GPU job would — by reclaim within its tenant's
    /// guarantee, or from its tenant's lower preemptible classes — for the whole GPUs of one node that its gang
    /// would split (the same transaction: victims stop, the slices are placed, or all is put back). It starts
    /// after the victims' grace and then the layout change.
    /// </summary>
    private bool? EvictForSlices(JobRecord job, JobClass c, bool guaranteed)
    {
        if (!_preemptor.CanEvictMore(_cycle)) return null;
        var gpus = _slices.GpusToOpen(c);
        if (gpus < 1) return null;
        var whole = _classes.ClassFor(gpus, c.ModelMask, TopologyNeed.Node, c.Site, c.DataSite, c.Demand, null, c.Sites);
        if (whole.ImpossibleReason is not null) return null;
        (int Pool, GpuAllocation[] Gpus, long Delay, SlicePlacement[] Slices, long Units)? sliced = null;
        var evicted = _preemptor.TryPreempt(job, whole, guaranteed, _cycle, () =>
        {
            sliced = _slices.TryPlace(c, job.Spec.Id, _cycle.Now);
            return sliced is { } s ? (s.Pool, s.Gpus) : null;
        });
        if (evicted is not { } e || sliced is not { } placed) return null;
        return Commit(job, (placed.Pool, placed.Gpus, e.Delay + placed.Delay), guaranteed, placed.Slices, placed.Units);
    }

    /// <summary>Records a placement: the job runs from now, so a reservation made later in this cycle counts its end.</summary>
    private bool Commit(JobRecord job, (int Pool, GpuAllocation[] Gpus, long Delay) placed, bool guaranteed, SlicePlacement[]? slices = null, long? units = null)
    {
        var model = _fleet.PoolModel(placed.Pool);
        // A whole GPU that still has a MIG layout needs it undone first.
        var delay = slices is null && _slices.HasIdleLayouts ? Math.Max(placed.Delay, _slices.ClaimWhole(placed.Gpus)) : placed.Delay;
        _cycle.Placements.Add(new PlacementDecision(job.Spec.Id, model, _fleet.PoolSite(placed.Pool), placed.Gpus, _cycle.Reservation is not null)
        {
            StartDelaySeconds = delay,
            Borrowed = _options.Policy.Quotas != QuotaMode.None && !guaranteed,
            Slices = slices,
        });
        _running.Start(job, model, placed.Gpus, _cycle.Now, delay, units);
        return true;
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
        if (c.PendingCount > 0 && ++_cycle.ExhaustedClasses >= _pending.ActiveClasses && !_preemptor.CanEvictMore(_cycle))
            _cycle.StopAllClassesFailed();
    }

    /// <summary>Per-tenant lists follow the tenant tree, which grows when a policy without quotas meets a new tenant.</summary>
    private void GrowTenants()
    {
        var tenants = _ledger.NodeCount;
        _pending.GrowTo(tenants);
        _running.GrowTo(tenants);
        _settled.GrowTo(tenants);
    }
}
