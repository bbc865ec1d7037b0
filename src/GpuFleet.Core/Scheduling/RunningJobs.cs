using GpuFleet.Core.Decisions;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The jobs running and everything that follows from them: their GPUs in <see cref="ClusterState"/>,
/// their tenants' use in the ledger, the running set by end time (what the shadow planner reads), and
/// per tenant its running jobs and how many run at best-effort or are preemptible (what a search for
/// victims reads). Starting and stopping a job go through here so that all of these stay in step.
/// </summary>
internal sealed class RunningJobs(ClusterState state, TenantLedger ledger, QuotaGate quotas, SliceAllocator slices)
{
    private readonly SortedSet<JobRecord> _byEnd = new(RunningOrder.Instance);
    private readonly List<HashSet<JobRecord>> _byTenant = [];
    private readonly List<int> _bestEffort = [];
    private readonly List<int> _preemptible = [];

    public int Count => _byEnd.Count;
    public int TenantCount => _byTenant.Count;
    public HashSet<JobRecord> OfTenant(int tenant) => _byTenant[tenant];
    public int BestEffortOf(int tenant) => _bestEffort[tenant];
    public int PreemptibleOf(int tenant) => _preemptible[tenant];

    /// <summary>Each running job's GPUs with the time its limit runs out, soonest first.</summary>
    /// <remarks>Slice jobs are left out: a shared GPU comes free only when its last slice ends, which this cannot say.</remarks>
    public IEnumerable<(long End, GpuAllocation[] Gpus)> ByEnd => _byEnd.Where(j => j.Class.Slice is null).Select(j => (j.ExpectedEnd, j.Gpus!));

    public void GrowTo(int tenants)
    {
        while (_byTenant.Count < tenants)
        {
            _byTenant.Add([]);
            _bestEffort.Add(0);
            _preemptible.Add(0);
        }
    }

    /// <summary>Starts a job on GPUs the placer has just taken; it runs from <paramref name="now"/> after <paramref name="delay"/>.</summary>
    public void Start(JobRecord job, int model, GpuAllocation[] gpus, long now, long delay, long? units = null)
    {
        job.Units = units ?? job.Class.UnitsByModel[model];
        job.Running = true;
        job.Gpus = gpus;
        job.Model = model;
        job.StartTime = now;
        job.ExpectedEnd = now + delay + job.Spec.TimeLimitSeconds;
        _byEnd.Add(job);
        ledger.Start(job.Tenant, model, job.Units);
        quotas.Invalidate();
        _byTenant[job.Tenant].Add(job);
        if (job.PriorityClass.Preemptible) _preemptible[job.Tenant]++;
    }

    /// <summary>Records whether a job just started runs at best-effort (any guaranteed demand may reclaim it).</summary>
    public void SetBestEffort(JobRecord job, bool bestEffort)
    {
        job.BestEffortRun = bestEffort;
        if (bestEffort) _bestEffort[job.Tenant]++;
    }

    /// <summary>Stops a running job: its GPUs come free and its tenant's use drops.</summary>
    public void Stop(JobRecord job)
    {
        if (job.Class.Slice is not null) slices.Release(job.Spec.Id, job.Class.Demand);
        else foreach (var alloc in job.Gpus!) state.Release(alloc, job.Class.Demand);
        _byEnd.Remove(job);
        ledger.Stop(job.Tenant, job.Model, job.Units);
        quotas.Invalidate();
        _byTenant[job.Tenant].Remove(job);
        if (job.BestEffortRun) _bestEffort[job.Tenant]--;
        if (job.PriorityClass.Preemptible) _preemptible[job.Tenant]--;
        job.Running = false;
        job.Gpus = null;
        job.BestEffortRun = false;
    }

    /// <summary>
    /// Undoes <see cref="Stop"/> exactly, before anything else changed: the same GPUs (not merely as many),
    /// the tenant's use and billed rate as they were, the same place in the running set. Undo stops in the
    /// reverse order they were made.
    /// </summary>
    public void Resume(JobRecord job, StoppedJob stopped)
    {
        if (job.Class.Slice is not null) throw new InvalidOperationException($"job {job.Spec.Id}: slice jobs are never stopped tentatively");
        foreach (var alloc in stopped.Gpus) state.Restore(alloc, job.Class.Demand);
        job.Running = true;
        job.Gpus = stopped.Gpus;
        job.BestEffortRun = stopped.BestEffort;
        _byEnd.Add(job);
        ledger.Resume(job.Tenant, job.Model, job.Units, stopped.BilledRate);
        _byTenant[job.Tenant].Add(job);
        if (job.BestEffortRun) _bestEffort[job.Tenant]++;
        if (job.PriorityClass.Preemptible) _preemptible[job.Tenant]++;
    }

    /// <summary>What <see cref="Resume"/> needs to undo a stop of <paramref name="job"/>; take it before stopping.</summary>
    public StoppedJob Remember(JobRecord job) => new(job.Gpus!, job.BestEffortRun, ledger.BilledRate(job.Tenant));
}
