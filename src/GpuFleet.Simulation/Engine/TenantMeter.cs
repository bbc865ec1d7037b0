using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// Integrates each tenant's standing against its guarantee over virtual time: GPU-hours borrowed
/// beyond it, GPU-hours of its idle guarantee lent to others, and how much of the time it had demand
/// it also held its guarantee.
/// <para>Lent GPUs are attributed per model in proportion to idle guarantee: if tenants borrow 30 GPUs
/// of a model and A and B leave 40 and 20 of theirs idle, A lent 20 and B 10.</para>
/// <para>A tenant is <i>short</i> while one of its pending jobs would fit in what is left of its
/// guarantee (the guarantee entitles it to start now, yet it waits); it has demand while it runs or
/// waits for anything. Guarantee delivery is 1 − short time / demand time. Sizes are compared with the
/// guarantee summed over models, exact for one-model fleets.</para>
/// </summary>
internal sealed class TenantMeter(Fleet fleet)
{
    private readonly int _models = fleet.Models.Count;
    private readonly List<SortedDictionary<int, int>> _pendingSizes = [];
    private readonly List<double> _borrowedNow = [], _lentNow = [];
    private readonly List<bool> _demandNow = [], _shortNow = [];
    private int _count;
    private long _last = long.MinValue;

    public List<double> BorrowedGpuSeconds { get; } = [];
    public List<double> LentGpuSeconds { get; } = [];
    public List<double> DemandSeconds { get; } = [];
    public List<double> ShortSeconds { get; } = [];

    public void AddPending(int node, int gpus)
    {
        Grow(node + 1);
        var sizes = _pendingSizes[node];
        sizes[gpus] = sizes.GetValueOrDefault(gpus) + 1;
    }

    public void RemovePending(int node, int gpus)
    {
        var sizes = _pendingSizes[node];
        if (--sizes[gpus] == 0) sizes.Remove(gpus);
    }

    public void Advance(long time)
    {
        if (_last != long.MinValue && time > _last)
        {
            var dt = (double)(time - _last);
            for (var n = 0; n < _count; n++)
            {
                BorrowedGpuSeconds[n] += _borrowedNow[n] * dt;
                LentGpuSeconds[n] += _lentNow[n] * dt;
                if (_demandNow[n]) DemandSeconds[n] += dt;
                if (_shortNow[n]) ShortSeconds[n] += dt;
            }
        }
        _last = time;
    }

    public void Observe(FleetScheduler scheduler)
    {
        Grow(scheduler.TenantCount);
        Span<double> borrowedByModel = stackalloc double[_models];
        Span<double> idleByModel = stackalloc double[_models];
        borrowedByModel.Clear();
        idleByModel.Clear();
        for (var n = 0; n < _count; n++)
        {
            if (!scheduler.TenantIsLeaf(n)) continue;
            for (var m = 0; m < _models; m++)
            {
                var gap = scheduler.TenantUse(n, m) - scheduler.TenantGuarantee(n, m);
                if (gap > 0) borrowedByModel[m] += gap;
                else idleByModel[m] -= gap;
            }
        }
        for (var n = 0; n < _count; n++)
        {
            if (!scheduler.TenantIsLeaf(n)) continue;
            double borrowed = 0, lent = 0;
            int use = 0, room = 0;
            for (var m = 0; m < _models; m++)
            {
                var u = scheduler.TenantUse(n, m);
                var gap = u - scheduler.TenantGuarantee(n, m);
                use += u;
                if (gap > 0) borrowed += gap;
                else
                {
                    room -= gap;
                    if (idleByModel[m] > 0) lent += -gap * Math.Min(1, borrowedByModel[m] / idleByModel[m]);
                }
            }
            var sizes = _pendingSizes[n];
            _borrowedNow[n] = borrowed;
            _lentNow[n] = lent;
            _demandNow[n] = use > 0 || sizes.Count > 0;
            _shortNow[n] = sizes.Count > 0 && sizes.Keys.First() <= room;
        }
    }

    private void Grow(int count)
    {
        while (_count < count)
        {
            _pendingSizes.Add([]);
            _count++;
            _borrowedNow.Add(0);
            _lentNow.Add(0);
            _demandNow.Add(false);
            _shortNow.Add(false);
            BorrowedGpuSeconds.Add(0);
            LentGpuSeconds.Add(0);
            DemandSeconds.Add(0);
            ShortSeconds.Add(0);
        }
    }
}
