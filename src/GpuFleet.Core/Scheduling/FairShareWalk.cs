using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Fair-share walk: the leaf whose path has the lowest use over weight, owner level first (Fair
/// Tree), goes next. Keys only grow, and only on a placement, so after a job that was not placed the
/// same leaf is still the lowest: its next jobs come straight from its queue and a skipped job costs
/// no heap operation. A placement also raises the keys of the leaf's siblings' ancestors, so a
/// dequeued key is checked against the current one and, if stale, queued again (lazy update).
/// </summary>
internal sealed class FairShareWalk(PendingQueues pending, TenantLedger ledger, SettledJobKinds settled, long halfLifeSeconds) : IPendingWalk
{
    private readonly PriorityQueue<int, FairKey> _tenantHeap = new();

    public void Walk(SchedulingCycle cycle, Func<JobRecord, bool> consider)
    {
        WalkTenants(cycle, consider);
        _tenantHeap.Clear();
    }

    private void WalkTenants(SchedulingCycle cycle, Func<JobRecord, bool> consider)
    {
        var tenants = pending.TenantCount;
        var cursors = new SortedSet<JobRecord>.Enumerator[tenants];
        ledger.BeginOrdering();
        _tenantHeap.Clear();
        for (var t = 0; t < tenants; t++)
        {
            if (pending.OfTenant(t).Count == 0) continue;
            cursors[t] = pending.OfTenant(t).GetEnumerator();
            cursors[t].MoveNext();
            _tenantHeap.Enqueue(t, ledger.KeyOf(t));
        }
        while (_tenantHeap.TryDequeue(out var t, out var key))
        {
            var current = ledger.KeyOf(t);
            if (current.CompareTo(key) > 0)
            {
                _tenantHeap.Enqueue(t, current);
                continue;
            }
            bool more;
            do
            {
                var job = cursors[t].Current;
                var placed = consider(job);
                if (cycle.Stopped) return;
                // Every kind of job this tenant has waiting is settled for this cycle: skip the rest of its queue.
                if (!placed && settled.TenantSettled(t, cycle.Epoch)) break;
                more = cursors[t].MoveNext();
                if (!placed) continue;
                // Count a placement as the use it will add over the next half-life at most, so that one
                // tenant with many small jobs cannot take every free GPU in one cycle.
                ledger.Charge(t, job.Spec.Gpus * (double)Math.Min(job.Spec.TimeLimitSeconds, halfLifeSeconds));
                if (more) _tenantHeap.Enqueue(t, ledger.KeyOf(t));
                break;
            }
            while (more);
        }
    }
}
