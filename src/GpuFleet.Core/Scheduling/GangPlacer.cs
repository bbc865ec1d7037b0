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
/// <para>A job that asks for CPU or memory per GPU counts on a node only the free GPUs it could take with
/// them (<see cref="ClusterState.UsableFree"/>): the same choices, made over those counts. Jobs that ask for
/// neither take the bucket index's answers as they are.</para>
/// <para>On GPUs that may be shared, with fragmentation-aware packing, a job that fits one node takes instead
/// the node where the requests seen so far lose the least room (<see cref="SliceAllocator"/>'s measure, GPUs,
/// CPU and memory together). Say the mix is half 1-GPU jobs with 240 GB and half 2-GPU jobs with 8 GB per GPU,
/// and a 240-GB job may go to a node with 2 GPUs and 256 GB free or to one with 4 GPUs and 512 GB. Best fit
/// takes the first (fewest free GPUs), which keeps 1 GPU and 16 GB that neither kind can use; the second keeps 3
/// GPUs and 272 GB that both can: it goes there (scenario fragmentation-aware-places-whole-gpus-for-the-mix).</para>
/// </summary>
internal sealed class GangPlacer(ClusterState state, SliceAllocator? slices = null)
{
    // Nodes per free-GPU count that the fragmentation measure compares: nodes with the same free GPUs differ
    // only in CPU, memory and slices, and a few from each count keep the cost of a placement bounded.
    private const int ScoredNodesPerCount = 8;
    // Nodes per free-GPU count looked at, scored or passed over as the same as one scored.
    private const int ExaminedNodesPerCount = 32;

    private readonly List<GpuAllocation> _taken = [];
    private readonly List<int> _scratch = [];
    // Free CPU and memory of the nodes without slices scored in one free-GPU count: another such node with the
    // same free CPU and memory scores the same, so it is passed over (on most fleets, most of a count's nodes).
    private readonly List<(long Cpu, long Memory)> _scoredPlain = [];

    /// <summary>Places a member of <paramref name="jobClass"/> or returns null with nothing changed.</summary>
    public (int Pool, GpuAllocation[] Gpus)? TryPlace(JobClass jobClass)
    {
        var (pos, level, key, unit) = FindBest(jobClass);
        _taken.Clear();
        if (pos < 0)
        {
            var first = PlaceAcrossPools(jobClass, commit: true);
            return first >= 0 ? (first, _taken.ToArray()) : null;
        }
        var pool = jobClass.Pools[pos];
        var g = jobClass.Gpus;
        var demand = jobClass.Demand;
        switch (level)
        {
            case PlacementLevel.Node:
                var node = unit >= 0 ? unit : state.Nodes.Bucket(pool, key)[^1];
                _taken.Add(new GpuAllocation(node, state.Allocate(node, g, demand)));
                break;
            case PlacementLevel.Domain:
                TakeFromDomain(unit >= 0 ? unit : state.Domains.Bucket(pool, key)[^1], g, demand);
                break;
            default:
                TakeFromPool(pool, g, demand);
                break;
        }
        return (pool, _taken.ToArray());
    }

    /// <summary>Whether a member of <paramref name="jobClass"/> would fit now (test only: nothing changes).</summary>
    public bool CanPlace(JobClass jobClass) => FindBest(jobClass).Position >= 0 || PlaceAcrossPools(jobClass, commit: false) >= 0;

    /// <summary>The candidate pool with the tightest level, then the best fit (smallest sufficient block).</summary>
    private (int Position, PlacementLevel Level, int Key, int Unit) FindBest(JobClass jobClass)
    {
        var g = jobClass.Gpus;
        var demand = jobClass.Demand;
        var bestUnit = -1;
        var bestPos = -1;
        var bestLevel = PlacementLevel.Impossible;
        var bestKey = int.MaxValue;
        var bestPreference = int.MaxValue;
        double? bestScore = null;
        for (var i = 0; i < jobClass.Pools.Length; i++)
        {
            var p = jobClass.Pools[i];
            var level = jobClass.Levels[i];
            var preference = jobClass.Preference[i];
            if (preference > bestPreference || (preference == bestPreference && level > bestLevel) || state.PoolUsable(p) < g) continue;
            var unit = -1;
            double? score = null;
            int key;
            // Where the job asks for no CPU or memory and no GPU of the pool runs slices, fragmentation counts free
            // GPUs alone, which best fit already packs by (and on the national week it reclaimed more than best fit).
            if (level == PlacementLevel.Node && slices is not null && slices.ScoresWholeGpus(p) && (!demand.IsNone || slices.PoolRunsSlices(p)))
            {
                key = LeastFragmenting(p, g, demand, out unit, out var delta);
                score = delta;
            }
            else
            {
                key = !demand.IsNone ? KeyWithRoom(p, level, g, demand, out unit) : level switch
                {
                    PlacementLevel.Node => state.Nodes.FirstAtLeast(p, g),
                    PlacementLevel.Domain => state.Domains.FirstAtLeast(p, g),
                    PlacementLevel.Pool => state.PoolFree(p),
                    _ => -1,
                };
            }
            if (key < 0) continue;
            // Fragmentation compares only with fragmentation; a pool placed by best fit compares by free GPUs.
            var tighter = score is { } s && bestScore is { } b ? s < b - ScoreTolerance || (s <= b + ScoreTolerance && key < bestKey) : key < bestKey;
            if (preference < bestPreference || level < bestLevel || tighter)
            {
                bestPreference = preference;
                bestPos = i;
                bestLevel = level;
                bestKey = key;
                bestUnit = unit;
                bestScore = score;
            }
        }
        return (bestPos, bestLevel, bestKey, bestUnit);
    }

    // Fragmentation is a sum of weighted compute units: differences below this are rounding, not a better node.
    private const double ScoreTolerance = 1e-6;

    /// <summary>
    /// The node of a pool where a job of <paramref name="g"/> GPUs adds the least fragmentation (ties: the fewest
    /// free GPUs, then the node best fit would take), and its free-GPU count; -1 when no node holds the job.
    /// </summary>
    private int LeastFragmenting(int pool, int g, in NodeDemand demand, out int unit, out double score)
    {
        unit = -1;
        score = double.PositiveInfinity;
        var bestKey = -1;
        for (var k = g; k <= state.Fleet.PoolMaxNodeGpus(pool); k++)
        {
            var bucket = state.Nodes.Bucket(pool, k);
            var scored = 0;
            _scoredPlain.Clear();
            var last = Math.Max(0, bucket.Count - ExaminedNodesPerCount);
            for (var i = bucket.Count - 1; i >= last && scored < ScoredNodesPerCount; i--)
            {
                var node = bucket[i];
                if (!state.HasRoomFor(node, g, demand)) continue;
                if (!slices!.RunsSlices(node) && state.NodeOutMask(node) == 0)
                {
                    var room = (state.CpuFreeMilli(node), state.MemoryFreeMb(node));
                    if (_scoredPlain.Contains(room)) continue;
                    _scoredPlain.Add(room);
                }
                scored++;
                var delta = slices!.WholeGpuDelta(node, g, demand);
                if (delta < score - ScoreTolerance)
                {
                    score = delta;
                    unit = node;
                    bestKey = k;
                }
            }
        }
        return bestKey;
    }

    /// <summary>
    /// For a job with CPU or memory per GPU: the smallest free-GPU count of a node (or domain) that holds the
    /// job with them, and which one (the last of its bucket that does, as without a demand); for a pool, its
    /// usable free GPUs. -1 when none holds it.
    /// </summary>
    private int KeyWithRoom(int pool, PlacementLevel level, int g, in NodeDemand demand, out int unit)
    {
        unit = -1;
        switch (level)
        {
            case PlacementLevel.Node:
                for (var k = g; k <= state.Fleet.PoolMaxNodeGpus(pool); k++)
                {
                    var bucket = state.Nodes.Bucket(pool, k);
                    for (var i = bucket.Count - 1; i >= 0; i--)
                        if (state.HasRoomFor(bucket[i], g, demand))
                        {
                            unit = bucket[i];
                            return k;
                        }
                }
                return -1;
            case PlacementLevel.Domain:
                for (var k = g; k <= state.Fleet.PoolMaxDomainGpus(pool); k++)
                {
                    var bucket = state.Domains.Bucket(pool, k);
                    for (var i = bucket.Count - 1; i >= 0; i--)
                        if (DomainUsable(bucket[i], demand) >= g)
                        {
                            unit = bucket[i];
                            return k;
                        }
                }
                return -1;
            case PlacementLevel.Pool:
                var usable = PoolUsableWith(pool, demand);
                return usable >= g ? usable : -1;
            default:
                return -1;
        }
    }

    private int DomainUsable(int domain, in NodeDemand demand)
    {
        var first = state.Fleet.DomainFirstNode(domain);
        var end = first + state.Fleet.DomainNodeCount(domain);
        var sum = 0;
        for (var n = first; n < end; n++) sum += state.UsableFree(n, demand);
        return sum;
    }

    private int PoolUsableWith(int pool, in NodeDemand demand)
    {
        var sum = 0;
        foreach (var d in state.Fleet.PoolDomains(pool)) sum += DomainUsable(d, demand);
        return Math.Min(sum, state.PoolPowerRoom(pool));
    }

    /// <summary>Whether the class fails for lack of GPUs in total, for lack of a large enough block, or for its sites' power caps.</summary>
    public PendingReason ClassifyFailure(JobClass jobClass)
    {
        var reason = PendingReason.NoFreeGpus;
        foreach (var p in jobClass.Pools)
        {
            if (state.PoolFree(p) < jobClass.Gpus) continue;
            if (state.PoolPowerRoom(p) < jobClass.Gpus) reason = PendingReason.SitePowerCap;
            else if (!jobClass.Demand.IsNone && FitsIgnoringDemand(jobClass, p)) return PendingReason.NoCpuOrMemory;
            else return PendingReason.Fragmented;
        }
        return reason;
    }

    /// <summary>Whether a member would fit the pool by free GPUs alone (its CPU and memory aside).</summary>
    private bool FitsIgnoringDemand(JobClass jobClass, int pool) => jobClass.Levels[jobClass.PoolPosition[pool]] switch
    {
        PlacementLevel.Node => state.Nodes.FirstAtLeast(pool, jobClass.Gpus) >= 0,
        PlacementLevel.Domain => state.Domains.FirstAtLeast(pool, jobClass.Gpus) >= 0,
        _ => true,
    };

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
                free += jobClass.Demand.IsNone ? state.PoolUsable(p) : PoolUsableWith(p, jobClass.Demand);
                _scratch.Add(p);
            }
            if (free < g) continue;
            // Fewest sites: the pools with the most usable GPUs first.
            _scratch.Sort((a, b) => state.PoolUsable(b) != state.PoolUsable(a) ? state.PoolUsable(b).CompareTo(state.PoolUsable(a)) : a.CompareTo(b));
            if (!commit) return _scratch[0];
            var remaining = g;
            foreach (var p in _scratch)
            {
                var take = Math.Min(remaining, jobClass.Demand.IsNone ? state.PoolUsable(p) : PoolUsableWith(p, jobClass.Demand));
                if (take > 0) TakeFromPool(p, take, jobClass.Demand);
                remaining -= take;
                if (remaining == 0) break;
            }
            return _scratch[0];
        }
        return -1;
    }

    /// <summary>Takes <paramref name="count"/> GPUs across the pool's domains: whole large domains first, the remainder best-fit.</summary>
    private void TakeFromPool(int pool, int count, in NodeDemand demand)
    {
        if (!demand.IsNone)
        {
            TakeFromPoolWith(pool, count, demand);
            return;
        }
        while (count > 0)
        {
            var k = state.Domains.FirstAtLeast(pool, count);
            if (k > 0)
            {
                TakeFromDomain(state.Domains.Bucket(pool, k)[^1], count, demand);
                return;
            }
            k = state.Domains.Highest(pool);
            var domain = state.Domains.Bucket(pool, k)[^1];
            TakeFromDomain(domain, k, demand);
            count -= k;
        }
    }

    /// <summary><see cref="TakeFromPool"/> over usable counts: a domain that holds the rest best-fit, else the one with the most.</summary>
    private void TakeFromPoolWith(int pool, int count, in NodeDemand demand)
    {
        while (count > 0)
        {
            int fit = -1, fitUsable = int.MaxValue, largest = -1, largestUsable = 0;
            foreach (var d in state.Fleet.PoolDomains(pool))
            {
                var usable = DomainUsable(d, demand);
                if (usable == 0) continue;
                if (usable >= count && usable < fitUsable) (fit, fitUsable) = (d, usable);
                if (usable > largestUsable) (largest, largestUsable) = (d, usable);
            }
            var domain = fit >= 0 ? fit : largest;
            var take = Math.Min(count, fit >= 0 ? fitUsable : largestUsable);
            TakeFromDomain(domain, take, demand);
            count -= take;
        }
    }

    /// <summary>Takes <paramref name="count"/> GPUs inside one domain: a best-fit node if one holds the rest, else the fullest free node.</summary>
    private void TakeFromDomain(int domain, int count, in NodeDemand demand)
    {
        var first = state.Fleet.DomainFirstNode(domain);
        var end = first + state.Fleet.DomainNodeCount(domain);
        while (count > 0)
        {
            int fit = -1, largest = -1;
            int fitFree = 0, largestFree = 0;
            for (var n = first; n < end; n++)
            {
                var free = demand.IsNone ? state.NodeFree(n) : state.UsableFree(n, demand);
                if (free == 0) continue;
                if (free >= count && (fit < 0 || free < fitFree)) (fit, fitFree) = (n, free);
                if (largest < 0 || free > largestFree) (largest, largestFree) = (n, free);
            }
            var node = fit >= 0 ? fit : largest;
            var take = Math.Min(count, fit >= 0 ? fitFree : largestFree);
            _taken.Add(new GpuAllocation(node, state.Allocate(node, take, demand)));
            count -= take;
        }
    }
}
