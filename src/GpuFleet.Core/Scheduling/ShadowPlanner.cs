using GpuFleet.Core.Decisions;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// EASY backfill's reservation: the earliest time the blocked head job is sure to fit, and the free
/// GPUs to hold so that later jobs cannot take that away.
/// <para>Worked example — one 8-GPU node, 3 GPUs free; running A (4 GPUs, ends t=100) and B (1 GPU,
/// ends t=50); head H needs 8 on one node. Walking ends in order: t=50 gives 4 free, t=100 gives 8 —
/// the shadow time is 100. Of H's 8 GPUs, 5 come from A and B as they end; the other 3 must be free
/// GPUs that stay free, so 3 are held. A job of limit ≤ 100 − now may still use the held ones
/// (it gives them back in time); a longer one may not.</para>
/// The walk stops as soon as the head fits, so its cost is the number of jobs that must end first.
/// Fit is judged by counts at the head's level — a node, a domain, or a whole pool — which is
/// exactly what <see cref="GangPlacer"/> needs, since placement inside that scope takes any GPUs.
/// </summary>
internal sealed class ShadowPlanner
{
    private readonly ClusterState _state;
    private readonly int[] _nodeReleased;
    private readonly int[] _domainReleased;
    private readonly int[] _poolReleased;
    private readonly List<int> _touchedNodes = [];
    private readonly List<int> _touchedDomains = [];
    private readonly List<int> _touchedPools = [];
    private readonly List<int> _holdNodes = [];

    public ShadowPlanner(ClusterState state)
    {
        _state = state;
        _nodeReleased = new int[state.Fleet.NodeCount];
        _domainReleased = new int[state.Fleet.DomainCount];
        _poolReleased = new int[state.Fleet.PoolCount];
    }

    /// <summary>
    /// Finds the shadow time for a member of <paramref name="jobClass"/> and applies holds to the state.
    /// Returns null when no sequence of job ends lets it fit (it then holds nothing).
    /// </summary>
    public (long ShadowTime, int HeldGpus)? ReserveFor(JobClass jobClass, long now, IEnumerable<(long End, GpuAllocation[] Gpus)> runningByEnd)
    {
        try
        {
            return Walk(jobClass, now, runningByEnd) is { } fit ? (fit.Time, ApplyHolds(jobClass, fit.Scope)) : null;
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>
    /// The earliest time a member of <paramref name="jobClass"/> fits as running jobs end, ignoring
    /// every other pending job: a test-only placement that holds nothing. Null when it never fits.
    /// </summary>
    public long? EarliestFit(JobClass jobClass, long now, IEnumerable<(long End, GpuAllocation[] Gpus)> runningByEnd)
    {
        try
        {
            return Walk(jobClass, now, runningByEnd)?.Time;
        }
        finally
        {
            Reset();
        }
    }

    private (long Time, (PlacementLevel Level, int Id, int Released) Scope)? Walk(JobClass jobClass, long now, IEnumerable<(long End, GpuAllocation[] Gpus)> runningByEnd)
    {
        foreach (var (end, gpus) in runningByEnd)
        {
            foreach (var alloc in gpus)
            {
                var fit = Release(jobClass, alloc.Node, alloc.Count);
                if (fit is { } scope) return (Math.Max(end, now), scope);
            }
        }
        return null;
    }

    private (PlacementLevel Level, int Id, int Released)? Release(JobClass jobClass, int node, int count)
    {
        var fleet = _state.Fleet;
        var domain = fleet.NodeDomain(node);
        var pool = fleet.DomainPool(domain);
        if (_nodeReleased[node] == 0) _touchedNodes.Add(node);
        if (_domainReleased[domain] == 0) _touchedDomains.Add(domain);
        if (_poolReleased[pool] == 0) _touchedPools.Add(pool);
        _nodeReleased[node] += count;
        _domainReleased[domain] += count;
        _poolReleased[pool] += count;

        var pos = jobClass.PoolPosition[pool];
        if (pos < 0) return null;
        var g = jobClass.Gpus;
        switch (jobClass.Levels[pos])
        {
            case PlacementLevel.Node when _state.NodeFree(node) + _nodeReleased[node] >= g:
                return (PlacementLevel.Node, node, _nodeReleased[node]);
            case PlacementLevel.Domain when _state.DomainFree(domain) + _domainReleased[domain] >= g:
                return (PlacementLevel.Domain, domain, _domainReleased[domain]);
            case PlacementLevel.Pool when _state.PoolFree(pool) + _poolReleased[pool] >= g:
                return (PlacementLevel.Pool, pool, _poolReleased[pool]);
            case PlacementLevel.MultiPool:
                var model = fleet.PoolModel(pool);
                int free = 0, released = 0;
                foreach (var p in jobClass.Pools)
                {
                    if (fleet.PoolModel(p) != model) continue;
                    free += _state.PoolFree(p);
                    released += _poolReleased[p];
                }
                return free + released >= g ? (PlacementLevel.MultiPool, model, released) : null;
            default:
                return null;
        }
    }

    private int ApplyHolds(JobClass jobClass, (PlacementLevel Level, int Id, int Released) scope)
    {
        var hold = Math.Max(0, jobClass.Gpus - scope.Released);
        if (hold == 0) return 0;
        var fleet = _state.Fleet;
        _holdNodes.Clear();
        switch (scope.Level)
        {
            case PlacementLevel.Node:
                _state.Hold(scope.Id, hold);
                return hold;
            case PlacementLevel.Domain:
                var first = fleet.DomainFirstNode(scope.Id);
                for (var n = first; n < first + fleet.DomainNodeCount(scope.Id); n++)
                    if (_state.NodeFree(n) > 0) _holdNodes.Add(n);
                // Hold whole free nodes first: the head will want them.
                _holdNodes.Sort((a, b) => _state.NodeFree(b) != _state.NodeFree(a) ? _state.NodeFree(b).CompareTo(_state.NodeFree(a)) : a.CompareTo(b));
                break;
            case PlacementLevel.Pool:
                CollectFullestNodes(scope.Id, hold);
                break;
            default:
                var left = hold;
                foreach (var p in jobClass.Pools)
                {
                    if (fleet.PoolModel(p) != scope.Id || left <= 0) continue;
                    left -= CollectFullestNodes(p, left);
                }
                break;
        }
        var remaining = hold;
        foreach (var n in _holdNodes)
        {
            var take = Math.Min(remaining, _state.NodeFree(n));
            _state.Hold(n, take);
            remaining -= take;
            if (remaining == 0) break;
        }
        return hold - remaining;
    }

    private int CollectFullestNodes(int pool, int wanted)
    {
        var collected = 0;
        for (var k = _state.Nodes.MaxKey(pool); k >= 1 && collected < wanted; k--)
        {
            foreach (var n in _state.Nodes.Bucket(pool, k))
            {
                _holdNodes.Add(n);
                collected += k;
                if (collected >= wanted) break;
            }
        }
        return Math.Min(collected, wanted);
    }

    private void Reset()
    {
        foreach (var n in _touchedNodes) _nodeReleased[n] = 0;
        foreach (var d in _touchedDomains) _domainReleased[d] = 0;
        foreach (var p in _touchedPools) _poolReleased[p] = 0;
        _touchedNodes.Clear();
        _touchedDomains.Clear();
        _touchedPools.Clear();
    }
}
