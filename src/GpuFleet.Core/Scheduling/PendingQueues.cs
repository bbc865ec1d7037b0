namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The jobs waiting, indexed the ways a cycle reads them: all of them in priority and submission order
/// (the submit-order walk), each tenant's own queue (the fair-share walk), the large gangs oldest first
/// (the one that waited too long goes first), and per tenant how many kinds of job (class and priority)
/// it has waiting, so that a walk knows when all of them are settled.
/// </summary>
internal sealed class PendingQueues(int largeGangGpus)
{
    private readonly SortedSet<JobRecord> _all = new(PendingOrder.Instance);
    private readonly List<SortedSet<JobRecord>> _byTenant = [];
    private readonly SortedSet<JobRecord> _largeGangs = new(SubmitOrder.Instance);
    private readonly List<Dictionary<(int Class, int Priority), int>> _kindsByTenant = [];

    public int Count => _all.Count;
    /// <summary>Every pending job, highest priority first, then earliest submission.</summary>
    public SortedSet<JobRecord> All => _all;
    public int TenantCount => _byTenant.Count;
    public SortedSet<JobRecord> OfTenant(int tenant) => _byTenant[tenant];
    /// <summary>The large gang submitted first, or null.</summary>
    public JobRecord? OldestLargeGang => _largeGangs.Count > 0 ? _largeGangs.Min : null;
    /// <summary>Classes with at least one pending member.</summary>
    public int ActiveClasses { get; private set; }
    /// <summary>Distinct (class, priority) kinds of job the tenant has waiting.</summary>
    public int KindsWaiting(int tenant) => _kindsByTenant[tenant].Count;

    public void GrowTo(int tenants)
    {
        while (_byTenant.Count < tenants)
        {
            _byTenant.Add(new SortedSet<JobRecord>(PendingOrder.Instance));
            _kindsByTenant.Add([]);
        }
    }

    public void Add(JobRecord job)
    {
        _all.Add(job);
        _byTenant[job.Tenant].Add(job);
        if (job.Spec.Gpus >= largeGangGpus) _largeGangs.Add(job);
        if (job.Class.PendingCount++ == 0) ActiveClasses++;
        var kinds = _kindsByTenant[job.Tenant];
        kinds[(job.Class.Id, job.Priority)] = kinds.GetValueOrDefault((job.Class.Id, job.Priority)) + 1;
    }

    public void Remove(JobRecord job)
    {
        _all.Remove(job);
        _byTenant[job.Tenant].Remove(job);
        if (job.Spec.Gpus >= largeGangGpus) _largeGangs.Remove(job);
        if (--job.Class.PendingCount == 0) ActiveClasses--;
        var kinds = _kindsByTenant[job.Tenant];
        if (--kinds[(job.Class.Id, job.Priority)] == 0) kinds.Remove((job.Class.Id, job.Priority));
    }
}
