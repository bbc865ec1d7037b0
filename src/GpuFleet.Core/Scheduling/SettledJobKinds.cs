using GpuFleet.Core.Decisions;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Kinds of job (tenant, class, priority) known not to start in the current cycle, and why. Within a
/// cycle that stays true — capacity only shrinks, and a tenant's quota answers only tighten — until an
/// eviction frees GPUs (a new generation). Once every kind a tenant has waiting is settled, the walk
/// skips the rest of its queue: a tenant with 30,000 queued jobs costs its distinct kinds, not 30,000 visits.
/// </summary>
internal sealed class SettledJobKinds(PendingQueues pending)
{
    private readonly Dictionary<(int Tenant, int Class, int Priority), Settled> _settled = [];
    private readonly List<(long Epoch, long Generation, int Count)> _byTenant = [];
    private long _generation;

    public void GrowTo(int tenants)
    {
        while (_byTenant.Count < tenants) _byTenant.Add((-1, -1, 0));
    }

    /// <summary>GPUs came free by eviction: what was settled in this cycle may start after all.</summary>
    public void NewGeneration() => _generation++;

    /// <summary>Counts evictions' new starts: what was settled under another generation is not settled now.</summary>
    public long Generation => _generation;

    /// <summary>Whether jobs of this one's kind are known not to start in cycle <paramref name="epoch"/> (since the last eviction).</summary>
    public bool KindSettled(JobRecord job, long epoch) =>
        _settled.TryGetValue((job.Tenant, job.Class.Id, job.Priority), out var s) && s.Epoch == epoch && s.Generation == _generation;

    /// <summary>Records that jobs of this one's kind cannot start in cycle <paramref name="epoch"/>.</summary>
    public void Settle(JobRecord job, long epoch, PendingReason reason, long? blocking)
    {
        // Jobs of one class and priority ask the same of quota and preemption; a class alone would not do
        // (a best-effort job may be refused where a normal one of the same shape is not).
        var key = (job.Tenant, job.Class.Id, job.Priority);
        if (_settled.TryGetValue(key, out var old) && old.Epoch == epoch && old.Generation == _generation) return;
        _settled[key] = new Settled(epoch, _generation, reason, blocking);
        var (e, generation, count) = _byTenant[job.Tenant];
        _byTenant[job.Tenant] = e == epoch && generation == _generation ? (e, generation, count + 1) : (epoch, _generation, 1);
    }

    /// <summary>Whether every kind of job the tenant has waiting is settled in cycle <paramref name="epoch"/>.</summary>
    public bool TenantSettled(int tenant, long epoch)
    {
        var (e, generation, count) = _byTenant[tenant];
        return e == epoch && generation == _generation && count >= pending.KindsWaiting(tenant);
    }

    /// <summary>Why jobs of this one's kind did not start in cycle <paramref name="epoch"/>, if they were settled in it.</summary>
    public bool TryGetReason(JobRecord job, long epoch, out PendingReason reason, out long? blocking)
    {
        if (_settled.TryGetValue((job.Tenant, job.Class.Id, job.Priority), out var settled) && settled.Epoch == epoch)
        {
            (reason, blocking) = (settled.Reason, settled.Blocking);
            return true;
        }
        (reason, blocking) = (default, null);
        return false;
    }

    private readonly record struct Settled(long Epoch, long Generation, PendingReason Reason, long? Blocking);
}
