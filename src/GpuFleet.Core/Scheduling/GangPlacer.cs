using GpuFleet.Core.Decisions;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// All-or-nothing placement that packs. For each candidate pool the job's level is the tightest its
/// size allows (node, then NVLink domain, then the pool), and inside a level it takes the best fit:
/// the node or domain with the fewest free GPUs that still hold the job, so whole nodes and domains
/// stay free for the gangs that need them.
/// <para>Worked example — pool of two NVL72-like domains of 4 nodes × 4 GPUs (16 GPUs each), free
/// counts D0 = 16, D1 = 6 (nodes 4, 2, 0, 0):</para>
/// <list type="bullet">
/// <item>a 2-GPU job fits a node: the best fit is the node with 2 free in D1 → D1 is now 4, 0, 0, 0;</item>
/// <item>a 6-GPU job needs a domain: D1 (4 free) is too small, so D0 → nodes there 4, 2 taken (whole node first, then best fit);</item>
/// <item>a 20-GPU job spans the pool: the largest domain is taken whole, then the remainder best-fits another.</item>
/// </list>
/// A failed try changes nothing; a successful one commits to <see cref="ClusterState"/> at once.
/// </summary>
internal sealed class GangPlacer(ClusterState state)
{
    private readonly List<GpuAllocation> _taken = [];
    private readonly List<int> _scratch = [];

    /// <summary>Places a member of <paramref name="jobClass"/> or returns null with nothing changed.</summary>
    public (int Pool, GpuAllocation[] Gpus)? TryPlace(JobClass jobClass)
    {
        var (pos, level, key) = FindBest(jobClass);
        _taken.Clear();
        if (pos < 0)
        {
            var first = PlaceAcrossPools(jobClass, commit: true);
            return first >= 0 ? (first, _taken.ToArray()) : null;
        }
        var pool = jobClass.Pools[pos];
        var g = jobClass.Gpus;
        switch (level)
        {
            case PlacementLevel.Node:
                var node = state.Nodes.Bucket(pool, key)[^1];
                _taken.Add(new GpuAllocation(node, state.Allocate(node, g)));
                break;
            case PlacementLevel.Domain:
                TakeFromDomain(state.Domains.Bucket(pool, key)[^1], g);
                break;
            default:
                TakeFromPool(pool, g);
                break;
        }
        return (pool, _taken.ToArray());
    }

    /// <summary>Whether a member of <paramref name="jobClass"/> would fit now (test only: nothing changes).</summary>
    public bool CanPlace(JobClass jobClass) => FindBest(jobClass).Position >= 0 || PlaceAcrossPools(jobClass, commit: false) >= 0;

    /// <summary>The candidate pool with the tightest level, then the best fit (smallest sufficient block).</summary>
    private (int Position, PlacementLevel Level, int Key) FindBest(JobClass jobClass)
    {
        var g = jobClass.Gpus;
        var bestPos = -1;
        var bestLevel = PlacementLevel.Impossible;
        var bestKey = int.MaxValue;
        var bestPreference = int.MaxValue;
        for (var i = 0; i < jobClass.Pools.Length; i++)
        {
            var p = jobClass.Pools[i];
            var level = jobClass.Levels[i];
            var preference = jobClass.Preference[i];
            if (preference > bestPreference || (preference == bestPreference && level > bestLevel) || state.PoolUsable(p) < g) continue;
            var key = level switch
            {
                PlacementLevel.Node => state.Nodes.FirstAtLeast(p, g),
                PlacementLevel.Domain => state.Domains.FirstAtLeast(p, g),
                PlacementLevel.Pool => state.PoolFree(p),
                _ => -1,
            };
            if (key < 0) continue;
            if (preference < bestPreference || level < bestLevel || key < bestKey)
            {
                bestPreference = preference;
                bestPos = i;
                bestLevel = level;
                bestKey = key;
            }
        }
        return (bestPos, bestLevel, bestKey);
    }

    /// <summary>Whether the class fails for lack of GPUs in total, for lack of a large enough block, or for its sites' power caps.</summary>
    public PendingReason ClassifyFailure(JobClass jobClass)
    {
        var reason = PendingReason.NoFreeGpus;
        foreach (var p in jobClass.Pools)
        {
            if (state.PoolFree(p) < jobClass.Gpus) continue;
            if (state.PoolPowerRoom(p) < jobClass.Gpus) reason = PendingReason.SitePowerCap;
            else return PendingReason.Fragmented;
        }
        return reason;
    }

    /// <summary>
    /// For a job that may span sites: the pools of one model with enough free GPUs together, largest
    /// first. Returns the first pool used (or that would be used), or -1 when none fits.
    /// </summary>
    private int PlaceAcrossPools(JobClass jobClass, bool commit)
    {
        // Only jobs that said "anywhere" reach here with a MultiPool level; group candidate pools by model.
        var g = jobClass.Gpus;
        for (var i = 0; i < jobClass.Pools.Length; i++)
        {
            if (jobClass.Levels[i] != PlacementLevel.MultiPool) continue;
            var model = state.Fleet.PoolModel(jobClass.Pools[i]);
            var free = 0;
            _scratch.Clear();
            for (var j = 0; j < jobClass.Pools.Length; j++)
            {
                var p = jobClass.Pools[j];
                if (state.Fleet.PoolModel(p) != model) continue;
                free += state.PoolUsable(p);
                _scratch.Add(p);
            }
            if (free < g) continue;
            // Fewest sites: the pools with the most usable GPUs first.
            _scratch.Sort((a, b) => state.PoolUsable(b) != state.PoolUsable(a) ? state.PoolUsable(b).CompareTo(state.PoolUsable(a)) : a.CompareTo(b));
            if (!commit) return _scratch[0];
            var remaining = g;
            foreach (var p in _scratch)
            {
                var take = Math.Min(remaining, state.PoolUsable(p));
                if (take > 0) TakeFromPool(p, take);
                remaining -= take;
                if (remaining == 0) break;
            }
            return _scratch[0];
        }
        return -1;
    }

    /// <summary>Takes <paramref name="count"/> GPUs across the pool's domains: whole large domains first, the remainder best-fit.</summary>
    private void TakeFromPool(int pool, int count)
    {
        while (count > 0)
        {
            var k = state.Domains.FirstAtLeast(pool, count);
            if (k > 0)
            {
                TakeFromDomain(state.Domains.Bucket(pool, k)[^1], count);
                return;
            }
            k = state.Domains.Highest(pool);
            var domain = state.Domains.Bucket(pool, k)[^1];
            TakeFromDomain(domain, k);
            count -= k;
        }
    }

    /// <summary>Takes <paramref name="count"/> GPUs inside one domain: a best-fit node if one holds the rest, else the fullest free node.</summary>
    private void TakeFromDomain(int domain, int count)
    {
        var first = state.Fleet.DomainFirstNode(domain);
        var end = first + state.Fleet.DomainNodeCount(domain);
        while (count > 0)
        {
            int fit = -1, largest = -1;
            for (var n = first; n < end; n++)
            {
                var free = state.NodeFree(n);
                if (free == 0) continue;
                if (free >= count && (fit < 0 || free < state.NodeFree(fit))) fit = n;
                if (largest < 0 || free > state.NodeFree(largest)) largest = n;
            }
            var node = fit >= 0 ? fit : largest;
            var take = Math.Min(count, state.NodeFree(node));
            _taken.Add(new GpuAllocation(node, state.Allocate(node, take)));
            count -= take;
        }
    }
}
