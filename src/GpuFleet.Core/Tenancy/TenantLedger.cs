using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Tenancy;

/// <summary>
/// What each node of the tenant tree is guaranteed, uses and has used: quota checks, decayed fair-share
/// use and grant balances. Nodes are numbered in tree order (parents first); a leaf's path runs from its
/// owner down to itself.
/// <para>Worked example — owner A (leaves a1 guarantee 8, a2 guarantee 8) and owner B (leaf b1
/// guarantee 16, lends to other owners) on 32 GPUs of one model. b1 idle, a1 runs 8: a1 asks for 8
/// more → beyond its guarantee, so it borrows (no borrow limit; 16 free and nothing kept for lenders).
/// Now b1 asks for 16: within its guarantee, but only 8 are free → reclaim: a1's borrowed job is the
/// victim, not a2's jobs (a2 is within its guarantee). Had B set <c>lendsToOtherOwners: false</c>,
/// a1's second job would have waited with "idle GPUs are kept for their owners".</para>
/// </summary>
internal sealed class TenantLedger
{
    private readonly Fleet _fleet;
    private readonly int _models;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<int> _parent = [];
    private readonly List<int[]> _path = [];
    private readonly List<bool> _leaf = [];
    // Guarantees and use in compute units (GpuSharing.UnitsPerGpu per GPU), so that a slice counts its share
    // of a GPU exactly; whole-GPU arithmetic is the same scaled by a constant, and decides the same.
    private const long Unit = GpuSharing.UnitsPerGpu;
    private readonly List<long> _guarantee = [];   // node * models + model
    private readonly List<long> _use = [];         // node * models + model
    private readonly List<int?> _borrowLimit = [];
    private readonly List<int?> _lendLimit = [];
    private readonly List<bool> _lendsAcross = [];
    private readonly List<double> _weight = [];
    private readonly List<double> _usage = [];
    private readonly List<long> _runningUnits = [];
    private readonly List<double> _billedRate = [];
    private readonly List<GrantAccount[]> _grants = [];
    private readonly List<double> _overrun = [];
    private readonly double[] _billing;
    private readonly List<int> _leaves = [];
    private readonly bool _lendRestricted;
    // Per pool: the tree's owner node of its site when that owner reclaims guests there, else -1.
    private readonly int[] _guestReclaimingOwner;
    private readonly bool _built;
    private double[] _cycleKey = [];
    private long _lastAccrual = long.MinValue;
    private long _lastCharge = long.MinValue;

    public TenantLedger(Fleet fleet, TenantTree tree, IReadOnlyDictionary<string, double> extraShares)
    {
        _fleet = fleet;
        _models = fleet.Models.Count;
        _billing = new double[_models];
        for (var m = 0; m < _models; m++) _billing[m] = tree.BillingWeights.GetValueOrDefault(fleet.Models[m].Name, 1.0);
        foreach (var model in tree.BillingWeights.Keys)
            if (fleet.ModelIndex(model) < 0) throw new ArgumentException($"billingWeights.{model}: the fleet has no GPU model '{model}'");
        Classes = tree.Classes;
        DefaultClass = tree.Classes.First(c => c.Name == tree.DefaultClass);
        foreach (var t in tree.Tenants)
        {
            var node = Add(t.Name, t.Parent is null ? -1 : _index[t.Parent], t.Weight, t.BorrowLimitGpus, t.LendLimitGpus, t.LendsToOtherOwners);
            foreach (var (model, gpus) in t.Guarantee)
            {
                var m = fleet.ModelIndex(model);
                if (m < 0) throw new ArgumentException($"tenants.{t.Name}.guarantee.{model}: the fleet has no GPU model '{model}'");
                foreach (var a in _path[node]) _guarantee[a * _models + m] += gpus * Unit;
            }
            _grants[node] = [.. (t.Grants ?? []).OrderBy(g => g.EndTime).Select(g => new GrantAccount(g))];
            if (t.LendLimitGpus is not null && tree.Tenants.Any(c => c.Parent == t.Name))
                throw new ArgumentException($"tenants.{t.Name}.lendLimitGpus: lend limits belong to leaves");
        }
        for (var n = 0; n < _names.Count; n++)
        {
            if (_leaf[n]) _leaves.Add(n);
            _weight[n] = tree.Tenants[n].Weight ?? Math.Max(1, TotalGuarantee(n));
        }
        _lendRestricted = tree.Tenants.Any(t => t.LendLimitGpus is not null || !t.LendsToOtherOwners);
        _guestReclaimingOwner = new int[fleet.PoolCount];
        for (var p = 0; p < fleet.PoolCount; p++)
        {
            var owner = fleet.Sites[fleet.PoolSite(p)].Owner;
            _guestReclaimingOwner[p] = tree.Tenants.FirstOrDefault(t => t.Parent is null && t.Name == owner) is { ReclaimsGuests: true } ? _index[owner] : -1;
        }
        ReclaimsGuests = _guestReclaimingOwner.Any(o => o >= 0);
        _built = true;
        foreach (var (name, share) in extraShares)
            if (!_index.ContainsKey(name)) Add(name, -1, share > 0 ? share : 1.0, null, null, true);
        HasTree = tree.Tenants.Count > 0;
    }

    /// <summary>Whether a tree was given (otherwise every tenant is an owner of its own, with no guarantee).</summary>
    public bool HasTree { get; }
    /// <summary>Whether some owner reclaims its own sites' GPUs from other owners' tenants (<see cref="TenantSpec.ReclaimsGuests"/>).</summary>
    public bool ReclaimsGuests { get; }

    /// <summary>
    /// Whether a job of <paramref name="leaf"/> on <paramref name="pool"/> is a guest that a tenant of
    /// <paramref name="owner"/> may reclaim: the pool's site belongs to that owner, which reclaims guests, and
    /// the leaf belongs to another owner.
    /// </summary>
    public bool IsGuest(int leaf, int pool, int owner) => _guestReclaimingOwner[pool] == owner && Owner(leaf) != owner;

    /// <summary>Whether some site belongs to <paramref name="owner"/> and it reclaims guests there.</summary>
    public bool ReclaimsGuestsAsOwner(int owner) => Array.IndexOf(_guestReclaimingOwner, owner) >= 0;

    /// <summary>Whether some tenant limits what it lends (then borrowing checks count idle GPUs).</summary>
    public bool LendRestricted => _lendRestricted;
    public int NodeCount => _names.Count;
    public IReadOnlyList<PriorityClass> Classes { get; }
    public PriorityClass DefaultClass { get; }
    public string Name(int node) => _names[node];
    public ReadOnlySpan<int> Path(int node) => _path[node];
    public int Owner(int node) => _path[node][0];
    public bool IsLeaf(int node) => _leaf[node];
    public IReadOnlyList<int> Leaves => _leaves;
    /// <summary>Guaranteed GPUs of a model (whole GPUs: guarantees are given in GPUs).</summary>
    public int Guarantee(int node, int model) => (int)(_guarantee[node * _models + model] / Unit);
    /// <summary>GPUs of a model in use, slices counted by their share and the sum rounded up to whole GPUs.</summary>
    public int Use(int node, int model) => (int)((_use[node * _models + model] + Unit - 1) / Unit);
    /// <summary>GPU-equivalents of a model in use (a slice counts its share of compute).</summary>
    public double UseEquivalents(int node, int model) => _use[node * _models + model] / (double)Unit;
    private long GuaranteeUnits(int node, int model) => _guarantee[node * _models + model];
    private long UseUnits(int node, int model) => _use[node * _models + model];
    public double Usage(int node) => _usage[node];

    /// <summary>A node's fair-share weight: its configured weight, or its total guarantee.</summary>
    public double Weight(int node) => _weight[node];
    public double OverrunGpuHours(int node) => _overrun[node] / 3600;
    public int TotalGuarantee(int node)
    {
        var sum = 0;
        for (var m = 0; m < _models; m++) sum += Guarantee(node, m);
        return sum;
    }

    /// <summary>The node of this name, or -1.</summary>
    public int NodeOf(string name) => _index.TryGetValue(name, out var n) ? n : -1;

    /// <summary>The leaf a job's tenant names; an unknown tenant becomes an owner of its own when <paramref name="open"/>, else -1.</summary>
    public int LeafFor(string name, bool open)
    {
        if (_index.TryGetValue(name, out var n)) return _leaf[n] ? n : -1;
        if (!open) return -1;
        return Add(name, -1, 1.0, null, null, true);
    }

    /// <summary>Whether <paramref name="units"/> more compute units of a model keep the leaf within its guarantee.</summary>
    public bool WithinGuarantee(int leaf, int model, long units) => UseUnits(leaf, model) + units <= GuaranteeUnits(leaf, model);

    /// <summary>The most GPUs of a model the leaf may ever hold together: its guarantee, or with lending the tightest guarantee plus borrowing limit on its path.</summary>
    public long MostRunnable(int leaf, int model, bool lending)
    {
        if (!lending) return GuaranteeUnits(leaf, model);
        var most = long.MaxValue;
        foreach (var a in _path[leaf])
            if (_borrowLimit[a] is { } limit) most = Math.Min(most, GuaranteeUnits(a, model) + limit * Unit);
        return most;
    }

    /// <summary>Whether the leaf runs more GPUs of the model than it is guaranteed (the surplus is borrowed and reclaimable).</summary>
    public bool Borrowing(int leaf, int model) => UseUnits(leaf, model) > GuaranteeUnits(leaf, model);

    /// <summary>Why a leaf may not borrow <paramref name="units"/> compute units of a model now, or null when it may.</summary>
    public QuotaVerdict CheckBorrow(int leaf, int model, long units, int freeOfModel)
    {
        foreach (var a in _path[leaf])
            if (_borrowLimit[a] is { } limit && UseUnits(a, model) + units - GuaranteeUnits(a, model) > limit * Unit) return QuotaVerdict.BorrowLimit;
        if (_lendRestricted && freeOfModel * Unit - units < KeptForLenders(leaf, model)) return QuotaVerdict.KeptForLenders;
        return QuotaVerdict.Allowed;
    }

    /// <summary>Idle guaranteed GPUs of a model that other leaves will not lend to <paramref name="leaf"/>.</summary>
    private long KeptForLenders(int leaf, int model)
    {
        long kept = 0;
        var owner = Owner(leaf);
        foreach (var s in _leaves)
        {
            if (s == leaf) continue;
            var unused = Math.Max(0, GuaranteeUnits(s, model) - UseUnits(s, model));
            if (unused == 0) continue;
            var lendable = Owner(s) == owner || _lendsAcross[Owner(s)] ? Math.Min(unused, _lendLimit[s] is { } l ? l * Unit : long.MaxValue) : 0;
            kept += unused - lendable;
        }
        return kept;
    }

    /// <summary>A job of <paramref name="units"/> compute units starts (a whole GPU is <see cref="GpuSharing.UnitsPerGpu"/>).</summary>
    public void Start(int leaf, int model, long units)
    {
        var gpus = units / (double)Unit;
        foreach (var a in _path[leaf])
        {
            _use[a * _models + model] += units;
            _runningUnits[a] += units;
        }
        _billedRate[leaf] += gpus * _billing[model];
    }

    public void Stop(int leaf, int model, long units)
    {
        var gpus = units / (double)Unit;
        foreach (var a in _path[leaf])
        {
            _use[a * _models + model] -= units;
            _runningUnits[a] -= units;
        }
        _billedRate[leaf] -= gpus * _billing[model];
    }

    /// <summary>GPU-hours per second a leaf's running jobs draw from its grants (weighted by model).</summary>
    public double BilledRate(int leaf) => _billedRate[leaf];

    /// <summary>Undoes a <see cref="Stop"/> exactly: the use back, and the billed rate set to what it was before the stop.</summary>
    public void Resume(int leaf, int model, long units, double billedRateBefore)
    {
        Start(leaf, model, units);
        _billedRate[leaf] = billedRateBefore;
    }

    /// <summary>
    /// Decays every node's use to <paramref name="now"/> and adds what its running jobs used since the
    /// last call, integrated exactly: ∫ r·2^(−(now−s)/H) ds = r·H/ln 2·(1 − 2^(−dt/H)).
    /// </summary>
    public void Accrue(long now, long halfLife)
    {
        if (_lastAccrual == long.MinValue || now <= _lastAccrual)
        {
            _lastAccrual = Math.Max(_lastAccrual, now);
            return;
        }
        var h = (double)halfLife;
        var decay = Math.Pow(2, -(now - _lastAccrual) / h);
        var gain = h / Math.Log(2) * (1 - decay);
        for (var n = 0; n < _usage.Count; n++) _usage[n] = _usage[n] * decay + _runningUnits[n] / (double)Unit * gain;
        _lastAccrual = now;
    }

    /// <summary>Charges running jobs' billed GPU-seconds since the last call to the grants open at that time, earliest-ending first.</summary>
    public void ChargeGrants(long now)
    {
        if (_lastCharge == long.MinValue || now <= _lastCharge)
        {
            _lastCharge = Math.Max(_lastCharge, now);
            return;
        }
        var dt = now - _lastCharge;
        foreach (var leaf in _leaves)
        {
            if (_grants[leaf].Length == 0 || _billedRate[leaf] <= 0) continue;
            var due = _billedRate[leaf] * dt;
            foreach (var g in _grants[leaf])
            {
                if (!g.OpenAt(_lastCharge) || g.LeftSeconds <= 0) continue;
                var take = Math.Min(due, g.LeftSeconds);
                g.UsedSeconds += take;
                due -= take;
                if (due <= 0) break;
            }
            // Jobs admitted while a grant had hours run to their end; what they use beyond it is recorded, not hidden.
            _overrun[leaf] += due;
        }
        _lastCharge = now;
    }

    /// <summary>The leaf's grant standing at <paramref name="now"/>.</summary>
    public (GrantStanding Standing, long? NextOpen) GrantState(int leaf, long now)
    {
        var grants = _grants[leaf];
        if (grants.Length == 0) return (GrantStanding.NotMetered, null);
        GrantAccount? latest = null;
        long? next = null;
        foreach (var g in grants)
        {
            if (g.OpenAt(now) && g.LeftSeconds > 0) return (GrantStanding.Available, null);
            if (g.Grant.StartTime <= now) latest = g;
            else if (g.Grant.GpuHours > 0) next = next is null ? g.Grant.StartTime : Math.Min(next.Value, g.Grant.StartTime);
        }
        var policy = (latest ?? grants[0]).Grant.WhenExhausted;
        return (policy == GrantExhaustion.BestEffort ? GrantStanding.ExhaustedBestEffort : GrantStanding.ExhaustedHold, next);
    }

    /// <summary>GPU-hours charged to each of the leaf's grants so far.</summary>
    public IEnumerable<(Grant Grant, double UsedGpuHours)> GrantUse(int leaf) => _grants[leaf].Select(g => (g.Grant, g.UsedSeconds / 3600));

    /// <summary>Starts a cycle's fair-share ordering: each node's key is its decayed use over its weight.</summary>
    public void BeginOrdering()
    {
        if (_cycleKey.Length < _usage.Count) _cycleKey = new double[_usage.Count * 2];
        for (var n = 0; n < _usage.Count; n++) _cycleKey[n] = _usage[n] / _weight[n];
    }

    /// <summary>A placement this cycle counts against every node on the leaf's path.</summary>
    public void Charge(int leaf, double gpuSeconds)
    {
        foreach (var a in _path[leaf]) _cycleKey[a] += gpuSeconds / _weight[a];
    }

    /// <summary>
    /// A leaf's fair-share key: its path's keys from the owner down, compared level by level as Slurm's
    /// Fair Tree ranks siblings — an owner under its share goes before any owner above it, whatever
    /// their tenants did.
    /// </summary>
    public FairKey KeyOf(int leaf)
    {
        var path = _path[leaf];
        return new FairKey(
            _cycleKey[path[0]],
            path.Length > 1 ? _cycleKey[path[1]] : 0,
            path.Length > 2 ? _cycleKey[path[2]] : 0,
            path.Length > 3 ? _cycleKey[path[3]] : 0,
            leaf);
    }

    private int Add(string name, int parent, double? weight, int? borrowLimit, int? lendLimit, bool lendsAcross)
    {
        var n = _names.Count;
        _index[name] = n;
        _names.Add(name);
        _parent.Add(parent);
        _path.Add(parent < 0 ? [n] : [.. _path[parent], n]);
        _leaf.Add(true);
        for (var m = 0; m < _models; m++)
        {
            _guarantee.Add(0);
            _use.Add(0);
        }
        _borrowLimit.Add(borrowLimit);
        _lendLimit.Add(lendLimit);
        _lendsAcross.Add(lendsAcross);
        _weight.Add(weight ?? 1.0);
        _usage.Add(0);
        _runningUnits.Add(0);
        _billedRate.Add(0);
        _grants.Add([]);
        _overrun.Add(0);
        if (parent >= 0) _leaf[parent] = false;
        if (_built) _leaves.Add(n);
        return n;
    }

    private sealed class GrantAccount(Grant grant)
    {
        public Grant Grant { get; } = grant;
        public double UsedSeconds;
        public double LeftSeconds => Grant.GpuHours * 3600 - UsedSeconds;
        public bool OpenAt(long t) => t >= Grant.StartTime && t < Grant.EndTime;
    }
}
