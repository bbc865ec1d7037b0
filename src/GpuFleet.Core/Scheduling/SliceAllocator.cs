using System.Numerics;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Places jobs that ask for slices of GPUs (MIG instances or time-shared shares), all of a gang's slices on
/// one node. A GPU that runs slices is taken whole from <see cref="ClusterState"/> (so whole-GPU placement,
/// power and busy counts see it as busy) and given back when its last slice ends. A MIG GPU keeps its
/// layout when given back: slices of a profile in it reuse it at once, while a whole-GPU job or another
/// layout waits <see cref="GpuSharing.ReconfigureSeconds"/> for the change (only an idle GPU changes layout).
/// <para>Worked example — one node of 2 B200s, packing fragmentation-aware, requests seen so far half
/// <c>mig:1g.23gb</c> and half whole 1-GPU jobs. GPU 0 runs 1g.23gb instances 0–2 (4 of 7 free). A new
/// 1g.23gb slice may go to GPU 0 (its free slices stay usable by the next 1g request: no change in
/// fragmentation) or open GPU 1 (whose whole GPU then no 1-GPU job can use: +7/7 × ½). It goes to GPU 0;
/// worst-fit would open GPU 1 and leave both GPUs split.</para>
/// </summary>
internal sealed class SliceAllocator
{
    private const int Unit = GpuSharing.UnitsPerGpu;
    private readonly Fleet _fleet;
    private readonly ClusterState _state;
    private readonly JobClassCatalog _classes;
    private readonly SlicePacking _packing;
    private readonly Dictionary<long, SharedGpu> _active = [];
    // Per pool, the shared GPUs that still have a free instance or share: the only ones a slice may join.
    // A full GPU leaves the list (and comes back when a slice on it ends), so a busy fleet is not scanned.
    private readonly List<SharedGpu>[] _byPool;
    // Per pool, the GPUs running slices (in _active).
    private readonly int[] _sharedInPool;
    private readonly Dictionary<int, List<SharedGpu>> _byNode = [];
    private readonly Dictionary<long, MigInstance[]> _idleLayouts = [];
    private readonly Dictionary<long, Holding[]> _holdings = [];
    private readonly HashSet<int> _seenNodes = [];
    private readonly List<SharedGpu> _scratch = [];
    private readonly Dictionary<(GpuSharing, string), IReadOnlyList<MigInstance>[]> _layouts = [];
    // The shapes of the layouts above and of layouts GPUs kept, by reference: the same few layouts are tried on
    // every candidate node.
    private readonly Dictionary<IReadOnlyList<MigInstance>, MigLayoutShape> _shapes = new(ReferenceEqualityComparer.Instance);
    // Reused by Plan and FragmentationDelta, which run once per candidate node and layout and never nest.
    private readonly List<SharedGpu> _plan = [];
    private readonly List<SharedGpu> _sharedOnNode = [];
    private readonly List<(SharedGpu Gpu, int Instance)> _trial = [];
    private readonly List<SharedGpu> _joined = [];
    private long[] _change = new long[64];
    private bool[] _roomBefore = new bool[64];
    private bool[] _fitsBefore = new bool[64];
    private readonly Comparison<SharedGpu> _fullestFirst;
    private readonly Comparison<SharedGpu> _emptiestFirst;
    private (JobClass Class, double Weight)[][] _mix;
    private long _mixVersion = -1;
    private long _submittedVersion;
    // Each (node, class, layout)'s fragmentation change, kept while the node, the mix and the GPUs the node may
    // open stay as they were: a burst of one service's replicas scores every candidate once, then only the node
    // each replica went to. Emptied when the mix is taken again.
    private readonly Dictionary<(int Node, int Class, int Layout), ScoredNode> _scored = [];
    private const int MaxScored = 1 << 15;

    public SliceAllocator(Fleet fleet, ClusterState state, JobClassCatalog classes, SlicePacking packing)
    {
        _fleet = fleet;
        _state = state;
        _classes = classes;
        _packing = packing;
        _byPool = new List<SharedGpu>[fleet.PoolCount];
        for (var p = 0; p < fleet.PoolCount; p++) _byPool[p] = [];
        _mix = new (JobClass, double)[fleet.PoolCount][];
        _sharedInPool = new int[fleet.PoolCount];
        _fullestFirst = (a, b) => a.FreeUnits != b.FreeUnits ? a.FreeUnits.CompareTo(b.FreeUnits) : a.Gpu.CompareTo(b.Gpu);
        _emptiestFirst = (a, b) => a.FreeUnits != b.FreeUnits ? b.FreeUnits.CompareTo(a.FreeUnits) : a.Gpu.CompareTo(b.Gpu);
    }

    /// <summary>GPUs running slices now.</summary>
    public int SharedGpuCount => _active.Count;

    /// <summary>Whether some idle GPU still has a MIG layout (then a whole-GPU job on it waits for the change).</summary>
    public bool HasIdleLayouts => _idleLayouts.Count > 0;

    /// <summary>A job of the mix was submitted: fragmentation weights change.</summary>
    public void NoteSubmitted() => _submittedVersion++;

    /// <summary>Places a member of a slice class, or returns null with nothing changed.</summary>
    public (int Pool, GpuAllocation[] Gpus, long Delay, SlicePlacement[] Slices, long Units)? TryPlace(JobClass c, long job, long now)
    {
        var slice = c.Slice!;
        Candidate? best = null;
        var bestPreference = int.MaxValue;
        for (var i = 0; i < c.Pools.Length; i++)
        {
            var pool = c.Pools[i];
            var preference = c.Preference[i];
            if (preference > bestPreference) continue;
            var fit = slice.On(_fleet.PoolModel(pool));
            var candidate = BestNodeIn(pool, c, fit);
            if (candidate is not { } found) continue;
            if (best is null || preference < bestPreference || Better(found, best.Value))
            {
                best = found;
                bestPreference = preference;
            }
        }
        if (best is not { } chosen) return null;
        return Commit(chosen, c, job, now);
    }

    /// <summary>Whole GPUs a gang of the class's slices needs on one node where no GPU is split yet (the fewest over its pools).</summary>
    public int GpusToOpen(JobClass c)
    {
        var fewest = int.MaxValue;
        foreach (var p in c.Pools)
        {
            var perEmpty = c.Slice!.On(_fleet.PoolModel(p)).PerEmptyGpu(ModelMemoryMb(p));
            if (perEmpty > 0) fewest = Math.Min(fewest, (c.Gpus + perEmpty - 1) / perEmpty);
        }
        return fewest == int.MaxValue ? 0 : fewest;
    }

    /// <summary>Gives back a job's slices; a GPU whose last slice this was goes back whole.</summary>
    public void Release(long job, in NodeDemand demand)
    {
        if (!_holdings.Remove(job, out var held)) throw new InvalidOperationException($"job {job} holds no slices");
        foreach (var h in held)
        {
            h.Gpu.Give(job, h.Instance, h.Fit);
            if (h.Gpu.Jobs == 0) Deactivate(h.Gpu);
            else Reindex(h.Gpu);
        }
        _state.ReturnRoom(held[0].Gpu.Node, held.Length, demand);
    }

    /// <summary>
    /// A whole-GPU placement took these GPUs: any that still had a MIG layout loses it, and the job waits for
    /// the change. Returns that wait (0 when none had a layout).
    /// </summary>
    public long ClaimWhole(GpuAllocation[] gpus)
    {
        long delay = 0;
        foreach (var a in gpus)
            for (var bits = a.Mask; bits != 0; bits &= bits - 1)
            {
                var key = Key(a.Node, BitOperations.TrailingZeroCount(bits));
                if (_idleLayouts.Remove(key))
                {
                    _state.Touch(a.Node);
                    delay = Math.Max(delay, _fleet.Models[_fleet.PoolModel(_fleet.NodePool(a.Node))].Sharing!.ReconfigureSeconds);
                }
            }
        return delay;
    }

    /// <summary>
    /// Takes up the slices a job holds on a cluster (a new leader adopting a run that survived the old one): the
    /// same instances and shares, on the same GPUs. A GPU taken up knows only the instances its adopted jobs hold,
    /// so it takes no new MIG slice until it is idle again and laid out anew: the rest of its real layout is not
    /// known. Returns the GPUs and compute units held, or why the slices cannot be taken up (nothing changed then):
    /// they span nodes, a GPU runs a whole-GPU job or the other kind of sharing, an instance overlaps another, a
    /// share does not fit, or the node lacks the job's CPU or memory.
    /// </summary>
    public (GpuAllocation[] Gpus, long Units)? Adopt(JobClass c, long job, IReadOnlyList<SlicePlacement> slices, long now, out string? problem)
    {
        problem = null;
        if (slices.Count != c.Gpus) { problem = $"the run holds {slices.Count} slices, the job asks for {c.Gpus}"; return null; }
        var node = slices[0].Node;
        if (slices.Any(s => s.Node != node)) { problem = "the run's slices are on more than one node"; return null; }
        var fit = c.Slice!.On(_fleet.PoolModel(_fleet.NodePool(node)));
        if (fit.Sharing is null) { problem = "the node's GPUs are not shared"; return null; }
        if (!_state.HasRoomFor(node, slices.Count, c.Demand)) { problem = "the node has not the job's CPU cores or memory free"; return null; }
        // Checked whole first, so that a refusal changes nothing.
        var opened = new List<SharedGpu>();
        foreach (var onGpu in slices.GroupBy(s => s.Gpu))
        {
            var gpu = onGpu.Key;
            var mig = onGpu.Select(s => s.MigProfile is null ? (MigInstance?)null : new MigInstance(s.MigProfile, s.MigStart)).ToList();
            if (mig.Any(m => m is null) && mig.Any(m => m is not null)) { problem = $"GPU {gpu}: MIG instances and time-shared shares on one GPU"; return null; }
            var g = _active.GetValueOrDefault(Key(node, gpu));
            if (g is null)
            {
                if (gpu < 0 || gpu >= _fleet.NodeGpus(node) || (FreeBits(node) & (1UL << gpu)) == 0) { problem = $"GPU {gpu} of the node is not free here"; return null; }
                g = new SharedGpu(node, gpu, _fleet.NodePool(node), fit.Sharing, ModelMemoryMb(_fleet.NodePool(node)));
                opened.Add(g);
            }
            if (mig[0] is not null)
            {
                if (!g.IsMig && g.Jobs > 0) { problem = $"GPU {gpu} runs time-shared shares"; return null; }
                if (g.AdoptionProblem(mig.Select(m => m!.Value)) is { } bad) { problem = $"GPU {gpu}: {bad}"; return null; }
            }
            else if (g.IsMig || fit.Units * onGpu.Count() > g.FreeUnits || fit.MemoryMb * onGpu.Count() > g.FreeMemoryMb)
            {
                problem = $"GPU {gpu} has no room for {onGpu.Count()} shares of {fit.Units} units and {fit.MemoryMb} MB";
                return null;
            }
        }
        foreach (var g in opened)
        {
            Activate(g, now);
            g.ReadyAt = now;
        }
        var held = new Holding[slices.Count];
        long units = 0;
        ulong mask = 0;
        for (var i = 0; i < slices.Count; i++)
        {
            var s = slices[i];
            var g = _active[Key(node, s.Gpu)];
            var instance = s.MigProfile is null ? g.Take(job, fit) : g.AdoptInstance(job, new MigInstance(s.MigProfile, s.MigStart));
            held[i] = new Holding(g, instance, fit, g.UnitsOf(instance, fit), g.MemoryMbOf(instance, fit));
            units += held[i].Units;
            mask |= 1UL << g.Gpu;
            Reindex(g);
        }
        _state.TakeRoom(node, slices.Count, c.Demand);
        _holdings[job] = held;
        return ([new GpuAllocation(node, mask)], units);
    }

    /// <summary>The slices a running job holds, as placed.</summary>
    public IReadOnlyList<SlicePlacement> SlicesOf(long job) =>
        _holdings.TryGetValue(job, out var held) ? [.. held.Select(h => Describe(h))] : [];

    /// <summary>
    /// The share of free GPU capacity (in compute units, over the whole fleet) that the mix of requests seen so
    /// far could not use, each node's free capacity weighed by how likely each kind of request is; 0 with
    /// nothing free. The measure of Weng et al. (USENIX ATC 2023), with MIG instances and CPU/memory added.
    /// </summary>
    public (double FreeGpuEquivalents, double FragmentedGpuEquivalents) Fragmentation()
    {
        double free = 0, fragmented = 0;
        for (var node = 0; node < _fleet.NodeCount; node++)
        {
            var nodeFree = FreeUnitsOn(node, null, 0);
            if (nodeFree == 0) continue;
            free += nodeFree;
            fragmented += NodeFragmentation(node, null, 0);
        }
        return (free / Unit, fragmented / Unit);
    }

    private readonly record struct Holding(SharedGpu Gpu, int Instance, SliceFit Fit, int Units, long MemoryMb);

    private readonly record struct Candidate(int Pool, int Node, double Score, int Opened, long FreeUnits, int Layout);

    // Fragmentation-aware ties go to best fit: the node with the least free capacity, then the fewest GPUs opened.
    private bool Better(Candidate a, Candidate b) =>
        a.Score != b.Score ? a.Score < b.Score
        : _packing == SlicePacking.FragmentationAware && a.FreeUnits != b.FreeUnits ? a.FreeUnits < b.FreeUnits
        : a.Opened != b.Opened ? a.Opened < b.Opened : a.Node < b.Node;

    /// <summary>The best node of a pool for a gang of the class's slices, by the packing choice.</summary>
    private Candidate? BestNodeIn(int pool, JobClass c, SliceFit fit)
    {
        var k = c.Gpus;
        var powerRoom = _state.PoolPowerRoom(pool);
        var perEmpty = fit.PerEmptyGpu(ModelMemoryMb(pool));
        Candidate? best = null;
        _seenNodes.Clear();
        // Nodes that already run slices of this pool.
        foreach (var g in _byPool[pool])
            if (_seenNodes.Add(g.Node)) Consider(g.Node);
        // Nodes to open GPUs on: for each count of free GPUs, the node a whole-GPU placement would also pick
        // first (the last of its bucket), or the first one from the end with room for the CPU and memory.
        var needGpus = (k + perEmpty - 1) / perEmpty;
        for (var key = 1; key <= _fleet.PoolMaxNodeGpus(pool); key++)
        {
            var bucket = _state.Nodes.Bucket(pool, key);
            for (var i = bucket.Count - 1; i >= 0; i--)
            {
                var node = bucket[i];
                if (_seenNodes.Contains(node)) continue;
                if (key < needGpus || !_state.HasRoomFor(node, k, c.Demand)) continue;
                _seenNodes.Add(node);
                Consider(node);
                break;
            }
        }
        return best;

        void Consider(int node)
        {
            if (!_state.HasRoomFor(node, k, c.Demand)) return;
            var existing = 0;
            if (_byNode.TryGetValue(node, out var shared))
                foreach (var g in shared)
                    if (InService(g)) existing += g.Room(fit);
            var opened = existing >= k ? 0 : (k - existing + perEmpty - 1) / perEmpty;
            if (opened > Math.Min(_state.NodeFree(node), powerRoom)) return;
            var freeUnits = FreeUnitsOn(node, null, 0);
            if (_packing != SlicePacking.FragmentationAware)
            {
                // The plan is what commits: a kept layout may hold fewer instances than a new one, so count on it.
                var holds = Plan(node, fit, k, 0).Count >= k;
                opened = _scratch.Count;
                _scratch.Clear();
                if (!holds) return;
                var candidate = new Candidate(pool, node, _packing == SlicePacking.BestFit ? freeUnits : -freeUnits, opened, freeUnits, 0);
                if (best is null || Better(candidate, best.Value)) best = candidate;
                return;
            }
            // Fragmentation-aware: where a GPU must be split, each layout that serves the slice is a choice of its own.
            var layouts = opened > 0 && fit.Profile is not null ? LayoutsFor(fit).Length : 1;
            for (var layout = 0; layout < layouts; layout++)
            {
                var candidate = new Candidate(pool, node, ScoredDelta(node, c, fit, layout), opened, freeUnits, layout);
                if (!double.IsPositiveInfinity(candidate.Score) && (best is null || Better(candidate, best.Value))) best = candidate;
            }
        }
    }

    /// <summary>
    /// Whether whole-GPU jobs on a pool are placed by the fragmentation measure too: with fragmentation-aware
    /// packing, on GPUs that may be shared, so that slices and whole GPUs are packed against one picture of the
    /// mix. Elsewhere whole-GPU jobs take the best fit (<see cref="GangPlacer"/>).
    /// </summary>
    public bool ScoresWholeGpus(int pool) => _packing == SlicePacking.FragmentationAware && _fleet.Models[_fleet.PoolModel(pool)].Sharing is not null;

    /// <summary>Whether some GPU of the pool runs slices now.</summary>
    public bool PoolRunsSlices(int pool) => _sharedInPool[pool] > 0;

    /// <summary>Whether a node runs slices now (its fragmentation then depends on more than its free GPUs, CPU and memory).</summary>
    public bool RunsSlices(int node) => _byNode.ContainsKey(node);

    /// <summary>How fragmentation of a node changes if a whole-GPU job takes <paramref name="count"/> of its free GPUs, with its CPU and memory.</summary>
    /// <remarks>
    /// <see cref="NodeFragmentation"/> after less before, counted per kind of request over what changes: the
    /// node's free whole GPUs, and its CPU and memory. The shared GPUs are untouched, so a slice request that
    /// can use the node before and after loses nothing, and what they leave free counts alike on both sides.
    /// </remarks>
    public double WholeGpuDelta(int node, int count, in NodeDemand demand)
    {
        var pool = _fleet.NodePool(node);
        var mix = MixOf(pool);
        if (mix.Length == 0) return 0;
        var model = _fleet.PoolModel(pool);
        var nodeGpus = _fleet.NodeGpus(node);
        var wholeBefore = _state.NodeFree(node);
        var wholeAfter = wholeBefore - count;
        var sharedFree = SharedFree(node, null);
        if (_roomBefore.Length < mix.Length) (_roomBefore, _fitsBefore) = (new bool[mix.Length * 2], new bool[mix.Length * 2]);
        for (var i = 0; i < mix.Length; i++)
        {
            var c = mix[i].Class;
            _roomBefore[i] = _state.HasRoomFor(node, 1, c.Demand);
            _fitsBefore[i] = c.Slice is null && WholeFits(c, pool, node, wholeBefore, nodeGpus);
        }
        // Asked of the node as it would be with the job's CPU and memory taken, without taking them: a score
        // changes nothing, not even the node's version that kept scores are checked against.
        double delta = 0;
        for (var i = 0; i < mix.Length; i++)
        {
            var (c, weight) = mix[i];
            var roomAfter = _state.HasRoomAfter(node, 1, c.Demand, count, demand);
            long before, after;
            if (c.Slice is { } slice)
            {
                if (_roomBefore[i] && roomAfter) continue;
                var unusable = _roomBefore[i] || roomAfter ? UnusableShared(node, null, slice.On(model)) : 0;
                before = _roomBefore[i] ? unusable : (long)wholeBefore * Unit + sharedFree;
                after = roomAfter ? unusable : (long)wholeAfter * Unit + sharedFree;
            }
            else
            {
                // Shared capacity is unusable to it on both sides; its whole GPUs are, unless they hold it.
                before = _roomBefore[i] && _fitsBefore[i] ? 0 : (long)wholeBefore * Unit;
                after = roomAfter && WholeFits(c, pool, node, wholeAfter, nodeGpus, count, demand) ? 0 : (long)wholeAfter * Unit;
            }
            delta += weight * (after - before);
        }
        return delta;
    }

    /// <summary>Whether fragmentation changes are kept between placements (true); tests switch it off to check that keeping them changes no decision.</summary>
    internal bool KeepsScores { get; set; } = true;

    /// <summary><see cref="FragmentationDelta"/> for a member of <paramref name="c"/>, worked out again only when something it reads has changed.</summary>
    private double ScoredDelta(int node, JobClass c, SliceFit fit, int layout)
    {
        // What the delta reads: the node (its version), the mix, and how many GPUs the plan may open there.
        if (!KeepsScores) return FragmentationDelta(node, fit, c.Gpus, layout);
        var pool = _fleet.NodePool(node);
        MixOf(pool);
        var version = _state.NodeVersion(node);
        var openable = Math.Min(_state.NodeFree(node), _state.PoolPowerRoom(pool));
        var key = (node, c.Id, layout);
        if (_scored.TryGetValue(key, out var kept) && kept.Version == version && kept.Mix == _mixVersion && kept.Openable == openable) return kept.Delta;
        var delta = FragmentationDelta(node, fit, c.Gpus, layout);
        // Bounded: emptied (its capacity kept) rather than grown past what one pool's bursts reuse, so that it
        // never reallocates its tables in the large-object heap once full.
        if (_scored.Count >= MaxScored) _scored.Clear();
        _scored[key] = new ScoredNode(version, _mixVersion, openable, delta);
        return delta;
    }

    private readonly record struct ScoredNode(long Version, long Mix, int Openable, double Delta);

    /// <summary>
    /// How fragmentation of a node changes if the gang goes there (GPUs chosen as <see cref="Commit"/> will):
    /// <see cref="NodeFragmentation"/> after less before, counted over what the gang changes only — the shared
    /// GPUs it joins, the GPUs it opens, and the node's free whole GPUs — since a node's other GPUs add the same
    /// to both. Each kind of request's change is a whole number of units, weighed once.
    /// </summary>
    private double FragmentationDelta(int node, SliceFit fit, int k, int layout)
    {
        var plan = Plan(node, fit, k, layout);
        var opened = _scratch.Count;
        if (plan.Count < k)
        {
            _scratch.Clear();
            return double.PositiveInfinity;
        }
        var pool = _fleet.NodePool(node);
        var mix = MixOf(pool);
        if (mix.Length == 0)
        {
            _scratch.Clear();
            return 0;
        }
        var model = _fleet.PoolModel(pool);
        // The shared GPUs the gang joins, each once; the opened ones are in _scratch.
        _joined.Clear();
        foreach (var g in plan)
            if (!_scratch.Contains(g) && !_joined.Contains(g)) _joined.Add(g);
        if (_change.Length < mix.Length) _change = new long[mix.Length * 2];
        // Before: the joined GPUs' part (opened GPUs were whole and free: no slice request counts them unusable).
        long freeBefore = 0;
        foreach (var g in _joined) freeBefore += g.FreeUnits;
        for (var i = 0; i < mix.Length; i++)
            _change[i] = mix[i].Class.Slice is { } slice ? -UnusableOn(_joined, slice.On(model)) : 0;
        // Apply tentatively, measure, undo: the shared GPUs' own books make this exact.
        _trial.Clear();
        foreach (var g in plan) _trial.Add((g, g.Take(-1, fit)));
        long freeAfter = 0;
        foreach (var g in _joined) freeAfter += g.FreeUnits;
        foreach (var g in _scratch) freeAfter += g.FreeUnits;
        for (var i = 0; i < mix.Length; i++)
            if (mix[i].Class.Slice is { } slice)
                _change[i] += UnusableOn(_joined, slice.On(model)) + UnusableOn(_scratch, slice.On(model));
        for (var i = _trial.Count - 1; i >= 0; i--) _trial[i].Gpu.Give(-1, _trial[i].Instance, fit);
        _scratch.Clear();
        // What the node's free capacity loses: the opened GPUs' whole units, less what is left free on them and on the joined ones.
        var freeChange = freeAfter - freeBefore - (long)opened * Unit;
        var wholeBefore = _state.NodeFree(node);
        var wholeAfter = wholeBefore - opened;
        var nodeGpus = _fleet.NodeGpus(node);
        double delta = 0;
        for (var i = 0; i < mix.Length; i++)
        {
            var (c, weight) = mix[i];
            long change;
            if (!_state.HasRoomFor(node, 1, c.Demand)) change = freeChange;
            else if (c.Slice is not null) change = _change[i];
            else
            {
                // Shared free capacity is unusable to whole-GPU requests; whole GPUs are, unless too few.
                change = freeAfter - freeBefore;
                if (!WholeFits(c, pool, node, wholeBefore, nodeGpus)) change -= (long)wholeBefore * Unit;
                if (!WholeFits(c, pool, node, wholeAfter, nodeGpus)) change += (long)wholeAfter * Unit;
            }
            delta += weight * change;
        }
        return delta;
    }

    private long UnusableOn(List<SharedGpu> gpus, SliceFit fit)
    {
        long units = 0;
        foreach (var g in gpus) units += Unusable(g, fit);
        return units;
    }

    // A gang that fits one node needs its GPUs there with their CPU and memory (for a score: once `taken` GPUs of
    // `takenDemand` had theirs); a larger one, whole nodes.
    private bool WholeFits(JobClass c, int pool, int node, int wholeFree, int nodeGpus, int taken = 0, in NodeDemand takenDemand = default) =>
        c.Levels[c.PoolPosition[pool]] == PlacementLevel.Node
            ? wholeFree >= c.Gpus && _state.HasRoomAfter(node, c.Gpus, c.Demand, taken, takenDemand)
            : wholeFree == nodeGpus;

    /// <summary>
    /// Which GPUs of a node the gang's slices go to, one entry per slice: shared GPUs in the packing's order,
    /// then GPUs opened for it (new <see cref="SharedGpu"/> objects left in <see cref="_scratch"/>, not yet registered).
    /// The list returned is reused by the next call.
    /// </summary>
    private List<SharedGpu> Plan(int node, SliceFit fit, int k, int layout)
    {
        var plan = _plan;
        plan.Clear();
        var shared = _sharedOnNode;
        shared.Clear();
        if (_byNode.TryGetValue(node, out var list))
            foreach (var g in list)
                if (InService(g) && g.Room(fit) > 0) shared.Add(g);
        shared.Sort(_packing == SlicePacking.WorstFit ? _emptiestFirst : _fullestFirst);
        _scratch.Clear();
        var free = FreeBits(node);
        // Worst-fit spreads: new GPUs first. The others fill what is already split.
        if (_packing == SlicePacking.WorstFit)
            OpenWhileNeeded();
        foreach (var g in shared)
            for (var room = g.Room(fit); room > 0 && plan.Count < k; room--) plan.Add(g);
        OpenWhileNeeded();
        return plan;

        void OpenWhileNeeded()
        {
            while (plan.Count < k && free != 0 && _scratch.Count < Math.Min(_state.NodeFree(node), _state.PoolPowerRoom(_fleet.NodePool(node))))
            {
                var gpu = PickFreeGpu(node, free, fit);
                free &= ~(1UL << gpu);
                var g = NewShared(node, gpu, fit, layout);
                _scratch.Add(g);
                for (var room = g.Room(fit); room > 0 && plan.Count < k; room--) plan.Add(g);
            }
        }
    }

    private (int, GpuAllocation[], long, SlicePlacement[], long) Commit(Candidate chosen, JobClass c, long job, long now)
    {
        var fit = c.Slice!.On(_fleet.PoolModel(chosen.Pool));
        var plan = Plan(chosen.Node, fit, c.Gpus, chosen.Layout);
        if (plan.Count < c.Gpus) throw new InvalidOperationException($"node {chosen.Node}: the plan holds {plan.Count} of {c.Gpus} slices");
        var opened = _scratch.ToList();
        _scratch.Clear();
        foreach (var g in opened) Activate(g, now);
        var held = new Holding[plan.Count];
        long delay = 0;
        long units = 0;
        ulong mask = 0;
        for (var i = 0; i < plan.Count; i++)
        {
            var g = plan[i];
            var instance = g.Take(job, fit);
            held[i] = new Holding(g, instance, fit, g.UnitsOf(instance, fit), g.MemoryMbOf(instance, fit));
            units += held[i].Units;
            delay = Math.Max(delay, g.ReadyAt - now);
            mask |= 1UL << g.Gpu;
        }
        foreach (var g in plan) Reindex(g);
        _state.TakeRoom(chosen.Node, plan.Count, c.Demand);
        _holdings[job] = held;
        return (chosen.Pool, [new GpuAllocation(chosen.Node, mask)], Math.Max(0, delay), [.. held.Select(Describe)], units);
    }

    private SlicePlacement Describe(Holding h) => new(h.Gpu.Node, h.Gpu.Gpu,
        h.Instance >= 0 ? h.Gpu.Layout[h.Instance].Profile : null, h.Instance >= 0 ? h.Gpu.Layout[h.Instance].Start : 0,
        h.Units / (double)Unit, h.MemoryMb / 1000.0);

    /// <summary>
    /// The layouts a GPU may be split into for a slice: its profile (the smallest that serves it) first, then as
    /// many of one other profile as fit, then the smallest profile in what is left — one layout per other
    /// profile, the first being the slice's own profile repeated. Best-fit and worst-fit take the first;
    /// fragmentation-aware packing weighs them all.
    /// <para>Example (H100, a ½ GPU → 4g.40gb): 4g+1g+1g+1g, 4g+3g, 4g+2g+1g, 4g+1g.20gb+1g.20gb.</para>
    /// </summary>
    private IReadOnlyList<MigInstance>[] LayoutsFor(SliceFit fit)
    {
        var sharing = fit.Sharing!;
        var own = fit.Profile!;
        if (_layouts.TryGetValue((sharing, own.Name), out var cached)) return cached;
        var smallest = sharing.MigProfiles.OrderBy(p => p.ComputeSlices).ThenBy(p => p.MemorySlices).First();
        var layouts = new List<IReadOnlyList<MigInstance>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var other in sharing.MigProfiles.Where(p => p != own).Prepend(own))
        {
            var names = new List<string> { own.Name };
            // Repeat the other profile while it fits, then the smallest; Arrange refuses what does not fit.
            while (sharing.Arrange([.. names, other.Name], out _) is not null) names.Add(other.Name);
            while (sharing.Arrange([.. names, smallest.Name], out _) is not null) names.Add(smallest.Name);
            var layout = sharing.Arrange(names, out _)!;
            if (seen.Add(string.Join("+", layout.Select(i => $"{i.Profile}@{i.Start}")))) layouts.Add(layout);
        }
        return _layouts[(sharing, own.Name)] = [.. layouts];
    }

    /// <summary>The shape of one of <see cref="LayoutsFor"/>'s layouts, remembered under it and under its own instances.</summary>
    private MigLayoutShape ShapeOf(IReadOnlyList<MigInstance> layout, GpuSharing sharing)
    {
        if (_shapes.TryGetValue(layout, out var shape)) return shape;
        shape = MigLayoutShape.Of(layout, sharing);
        _shapes[layout] = shape;
        _shapes[shape.Instances] = shape;
        return shape;
    }

    /// <summary>A GPU to open for a slice: for MIG, one whose kept layout already has the profile; else the lowest free one without a layout.</summary>
    private int PickFreeGpu(int node, ulong free, SliceFit fit)
    {
        if (_idleLayouts.Count > 0)
        {
            if (fit.Profile is not null)
                for (var bits = free; bits != 0; bits &= bits - 1)
                {
                    var gpu = BitOperations.TrailingZeroCount(bits);
                    if (_idleLayouts.TryGetValue(Key(node, gpu), out var layout) && layout.Any(i => fit.Accepts(fit.Sharing!.Profile(i.Profile)!))) return gpu;
                }
            for (var bits = free; bits != 0; bits &= bits - 1)
            {
                var gpu = BitOperations.TrailingZeroCount(bits);
                if (!_idleLayouts.ContainsKey(Key(node, gpu))) return gpu;
            }
        }
        return BitOperations.TrailingZeroCount(free);
    }

    /// <summary>A GPU about to run slices (not yet taken from the cluster state): its kept layout if that serves the slice, else a new one.</summary>
    private SharedGpu NewShared(int node, int gpu, SliceFit fit, int layout)
    {
        var pool = _fleet.NodePool(node);
        var g = new SharedGpu(node, gpu, pool, fit.Sharing!, ModelMemoryMb(pool));
        if (fit.Profile is not null)
        {
            var kept = _idleLayouts.GetValueOrDefault(Key(node, gpu));
            // A kept layout is usually one of the shapes below (a GPU laid out by this allocator keeps its arrays);
            // one taken up from a running cluster is looked up afresh, not remembered.
            var keptShape = kept is null ? null : _shapes.GetValueOrDefault(kept) ?? MigLayoutShape.Of(kept, fit.Sharing!);
            var reuse = false;
            if (keptShape is not null)
                foreach (var profile in keptShape.Profiles) reuse |= fit.Accepts(profile);
            g.SetLayout(reuse ? keptShape! : ShapeOf(LayoutsFor(fit)[layout], fit.Sharing!));
            g.ReadyAt = reuse ? 0 : -1;   // -1: a layout change starts when it is taken (Activate)
        }
        else
        {
            // Leaving MIG for time-sharing is a layout change too.
            g.ReadyAt = _idleLayouts.ContainsKey(Key(node, gpu)) ? -1 : 0;
        }
        return g;
    }

    private void Activate(SharedGpu g, long now)
    {
        _state.Restore(new GpuAllocation(g.Node, 1UL << g.Gpu));
        var key = Key(g.Node, g.Gpu);
        _idleLayouts.Remove(key);
        g.ReadyAt = g.ReadyAt < 0 ? now + g.Sharing.ReconfigureSeconds : now;
        _active.Add(key, g);
        _sharedInPool[g.Pool]++;
        Reindex(g);
        if (!_byNode.TryGetValue(g.Node, out var list)) _byNode[g.Node] = list = [];
        list.Add(g);
    }

    private void Deactivate(SharedGpu g)
    {
        var key = Key(g.Node, g.Gpu);
        _active.Remove(key);
        _sharedInPool[g.Pool]--;
        if (g.Slot >= 0) Unlist(g);
        var onNode = _byNode[g.Node];
        onNode.Remove(g);
        if (onNode.Count == 0) _byNode.Remove(g.Node);
        if (g.IsMig) _idleLayouts[key] = g.Layout;
        _state.Release(new GpuAllocation(g.Node, 1UL << g.Gpu));
    }

    /// <summary>Keeps a GPU in its pool's list exactly while it has room for some slice.</summary>
    private void Reindex(SharedGpu g)
    {
        // Called after every change to a shared GPU's slices (not the trials that are undone at once).
        _state.Touch(g.Node);
        var roomy = g.IsMig ? g.Occupant.Contains(0) : g.FreeUnits > 0 && g.FreeMemoryMb > 0;
        if (roomy && g.Slot < 0)
        {
            g.Slot = _byPool[g.Pool].Count;
            _byPool[g.Pool].Add(g);
        }
        else if (!roomy && g.Slot >= 0)
        {
            Unlist(g);
        }
    }

    private void Unlist(SharedGpu g)
    {
        var list = _byPool[g.Pool];
        var last = list[^1];
        list[g.Slot] = last;
        last.Slot = g.Slot;
        list.RemoveAt(list.Count - 1);
        g.Slot = -1;
    }

    private bool InService(SharedGpu g) => (_state.NodeOutMask(g.Node) & (1UL << g.Gpu)) == 0;

    private ulong FreeBits(int node) => _state.AllGpus(node) & ~(_state.NodeUsedMask(node) | _state.NodeOutMask(node));

    private long ModelMemoryMb(int pool) => (long)(_fleet.Models[_fleet.PoolModel(pool)].MemoryGb * 1000);

    private static long Key(int node, int gpu) => (long)node * Fleet.MaxGpusPerNode + gpu;

    /// <summary>Free compute units of a node: its free whole GPUs less <paramref name="opened"/>, and the free part of its shared GPUs in service.</summary>
    private long FreeUnitsOn(int node, List<SharedGpu>? extra, int opened)
    {
        long units = (long)(_state.NodeFree(node) - opened) * Unit;
        if (_byNode.TryGetValue(node, out var shared))
            foreach (var g in shared) if (InService(g)) units += g.FreeUnits;
        if (extra is not null) foreach (var g in extra) units += g.FreeUnits;
        return units;
    }

    /// <summary>
    /// Expected free compute units of a node that a request drawn from the mix could not use: for each kind of
    /// request, the free capacity on GPUs it cannot go to (a shared GPU without room for it, whole GPUs too few
    /// for its gang, a node without its CPU or memory), weighed by how often that kind was asked for.
    /// </summary>
    private double NodeFragmentation(int node, List<SharedGpu>? extra, int opened)
    {
        var pool = _fleet.NodePool(node);
        var mix = MixOf(pool);
        if (mix.Length == 0) return 0;
        var model = _fleet.PoolModel(pool);
        var wholeFree = _state.NodeFree(node) - opened;
        var nodeGpus = _fleet.NodeGpus(node);
        var total = FreeUnitsOn(node, extra, opened);
        double fragment = 0;
        foreach (var (c, weight) in mix)
        {
            if (!_state.HasRoomFor(node, 1, c.Demand))
            {
                fragment += weight * total;
                continue;
            }
            long unusable = 0;
            if (c.Slice is { } slice)
            {
                var fit = slice.On(model);
                unusable += UnusableShared(node, extra, fit);
            }
            else
            {
                unusable += SharedFree(node, extra);
                if (!WholeFits(c, pool, node, wholeFree, nodeGpus)) unusable += (long)wholeFree * Unit;
            }
            fragment += weight * unusable;
        }
        return fragment;
    }

    private long SharedFree(int node, List<SharedGpu>? extra)
    {
        long units = 0;
        if (_byNode.TryGetValue(node, out var shared)) foreach (var g in shared) if (InService(g)) units += g.FreeUnits;
        if (extra is not null) foreach (var g in extra) units += g.FreeUnits;
        return units;
    }

    private long UnusableShared(int node, List<SharedGpu>? extra, SliceFit fit)
    {
        long units = 0;
        if (_byNode.TryGetValue(node, out var shared)) foreach (var g in shared) if (InService(g)) units += Unusable(g, fit);
        if (extra is not null) units += UnusableOn(extra, fit);
        return units;
    }

    // On a MIG GPU the free instances of the slice's profile are usable and the rest is not; on a time-shared
    // GPU its free part is usable when one share fits.
    private static long Unusable(SharedGpu g, SliceFit fit)
    {
        if (g.Room(fit) == 0) return g.FreeUnits;
        return fit.Profile is not null ? g.FreeUnits - g.FreeUnitsServing(fit) : 0;
    }

    /// <summary>
    /// The kinds of request that may run on a pool, with how often each was submitted (at most 64, the most
    /// frequent). The counts are taken again once submissions have grown by a 64th since they were last taken (and
    /// after each of the first 64): the weights, shares of everything submitted so far, have then moved by under
    /// 2%, and a fleet that takes a job every moment does not sort its kinds for every placement.
    /// </summary>
    private (JobClass Class, double Weight)[] MixOf(int pool)
    {
        if (_mixVersion < 0 || _submittedVersion - _mixVersion >= Math.Max(1, _mixVersion / 64))
        {
            Array.Clear(_mix);
            _scored.Clear();
            _mixVersion = _submittedVersion;
        }
        if (_mix[pool] is { } cached) return cached;
        var kinds = _classes.All.Where(c => c.Submitted > 0 && c.PoolPosition[pool] >= 0)
            .OrderByDescending(c => c.Submitted).ThenBy(c => c.Id).Take(64).ToList();
        double sum = kinds.Sum(c => (double)c.Submitted);
        return _mix[pool] = [.. kinds.Select(c => (c, c.Submitted / sum))];
    }
}
