namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The jobs waiting, indexed the ways a cycle reads them: all of them in priority and submission order
/// (the submit-order walk), each tenant's own queue split by kind of job (class and priority) for the
/// fair-share walk, which merges a tenant's kinds in that order and sets aside the kinds settled for the
/// cycle; the large gangs oldest first (the one that waited too long goes first); and per kind the time
/// limits asked (a kind whose shortest job ends after a reservation's shadow time cannot backfill before it).
/// </summary>
/// <param name="largeGangGpus">Jobs of this many GPUs or more are large gangs.</param>
/// <param name="byKind">
/// Whether each tenant's queue is kept split by kind: where kinds may be settled for a cycle (policies with
/// quotas). Elsewhere a tenant's queue is one, which a walk reads faster than a merge of its kinds.
/// </param>
internal sealed class PendingQueues(int largeGangGpus, bool byKind)
{
    private readonly SortedSet<JobRecord> _all = new(PendingOrder.Instance);
    private readonly SortedSet<JobRecord> _largeGangs = new(SubmitOrder.Instance);
    private readonly List<SortedSet<JobRecord>> _byTenant = [];
    private readonly List<Dictionary<(int Class, int Priority), PendingKind>> _kindsByTenant = [];

    public int Count => _all.Count;
    /// <summary>Every pending job, highest priority first, then earliest submission.</summary>
    public SortedSet<JobRecord> All => _all;
    public int TenantCount => _kindsByTenant.Count;
    /// <summary>Whether each tenant's queue is split by kind of job (<see cref="KindsOf"/>) rather than one (<see cref="OfTenant"/>).</summary>
    public bool ByKind => byKind;

    /// <summary>The tenant's queue, in priority and submission order, where queues are not split by kind.</summary>
    public SortedSet<JobRecord> OfTenant(int tenant) => byKind ? throw new InvalidOperationException("queues are split by kind") : _byTenant[tenant];

    /// <summary>The tenant's kinds of job waiting, where queues are split by kind; each holds its jobs in priority and submission order.</summary>
    public Dictionary<(int Class, int Priority), PendingKind>.ValueCollection KindsOf(int tenant) =>
        byKind ? _kindsByTenant[tenant].Values : throw new InvalidOperationException("queues are not split by kind");
    /// <summary>The large gang submitted first, or null.</summary>
    public JobRecord? OldestLargeGang => _largeGangs.Count > 0 ? _largeGangs.Min : null;
    /// <summary>Classes with at least one pending member.</summary>
    public int ActiveClasses { get; private set; }
    /// <summary>Distinct (class, priority) kinds of job the tenant has waiting.</summary>
    public int KindsWaiting(int tenant) => _kindsByTenant[tenant].Count;

    /// <summary>The shortest time limit among the tenant's waiting jobs of this kind (class and priority).</summary>
    public long ShortestLimit(int tenant, int jobClass, int priority) => _kindsByTenant[tenant][(jobClass, priority)].ShortestLimit;

    /// <summary>
    /// Marks a waiting job blocked from <paramref name="now"/> (<see cref="JobRecord.FirstBlockedAt"/>, from which
    /// reclaim latency counts), unless it was already; <paramref name="wholeKind"/>: every job of its kind too, for
    /// the kind was found unable to start (they wait within their guarantee as it does, visited or not).
    /// </summary>
    public void MarkBlocked(JobRecord job, long now, bool wholeKind = false)
    {
        var kind = KindOf(job);
        kind.MarkBlocked(job, now);
        if (wholeKind) kind.MarkAllBlocked(now);
    }

    /// <summary>A job placed (still in its queue until the cycle ends) is no longer blocked.</summary>
    public void ClearBlocked(JobRecord job) => KindOf(job).ClearBlocked(job);

    private PendingKind KindOf(JobRecord job) => _kindsByTenant[job.Tenant][(job.Class.Id, job.Priority)];

    public void GrowTo(int tenants)
    {
        while (_kindsByTenant.Count < tenants)
        {
            _kindsByTenant.Add([]);
            if (!byKind) _byTenant.Add(new SortedSet<JobRecord>(PendingOrder.Instance));
        }
    }

    public void Add(JobRecord job)
    {
        _all.Add(job);
        if (job.Spec.Gpus >= largeGangGpus) _largeGangs.Add(job);
        if (job.Class.PendingCount++ == 0) ActiveClasses++;
        var kinds = _kindsByTenant[job.Tenant];
        if (!kinds.TryGetValue((job.Class.Id, job.Priority), out var kind)) kinds[(job.Class.Id, job.Priority)] = kind = new PendingKind(byKind);
        kind.Add(job);
        if (!byKind) _byTenant[job.Tenant].Add(job);
    }

    public void Remove(JobRecord job)
    {
        _all.Remove(job);
        if (job.Spec.Gpus >= largeGangGpus) _largeGangs.Remove(job);
        if (--job.Class.PendingCount == 0) ActiveClasses--;
        var kinds = _kindsByTenant[job.Tenant];
        if (kinds[(job.Class.Id, job.Priority)].Remove(job)) kinds.Remove((job.Class.Id, job.Priority));
        if (!byKind) _byTenant[job.Tenant].Remove(job);
    }
}
