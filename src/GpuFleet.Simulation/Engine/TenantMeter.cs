using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// Integrates each tenant's standing against its guarantee over virtual time: GPU-hours borrowed
/// beyond it, GPU-hours of its idle guarantee lent to others, and how much of the time it had demand
/// it also held its guarantee.
/// <para>Borrowed and lent GPUs as <see cref="LendingAttribution"/> counts them.</para>
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
    private double[] _borrowedScratch = [], _lentScratch = [];
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
        Grow(scheduler.Tenants.Count);
        if (_borrowedScratch.Length < _count)
        {
            _borrowedScratch = new double[_count * 2];
            _lentScratch = new double[_count * 2];
        }
        LendingAttribution.Compute(scheduler, _models, _borrowedScratch, _lentScratch);
        for (var n = 0; n < _count; n++)
        {
            if (!scheduler.Tenants.IsLeaf(n)) continue;
            int use = 0, room = 0;
            for (var m = 0; m < _models; m++)
            {
                var u = scheduler.Tenants.Use(n, m);
                use += u;
                room += Math.Max(0, scheduler.Tenants.Guarantee(n, m) - u);
            }
            var sizes = _pendingSizes[n];
            _borrowedNow[n] = _borrowedScratch[n];
            _lentNow[n] = _lentScratch[n];
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
