using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Frees GPUs for a job that does not fit by evicting running gangs. A job within its tenant's
/// guarantee reclaims from tenants running above theirs and from best-effort jobs (and, where its owner
/// reclaims guests, from other owners' work on its owner's sites); any job may preempt lower, preemptible
/// classes of its own tenant. Nobody is evicted before its class's minimum runtime.
/// <para>An eviction is a transaction: the chosen victims are stopped tentatively, the job is placed,
/// and only then are they committed as evicted (a <see cref="PreemptionDecision"/> each, queued again).
/// If the job cannot be placed after all, every victim is put back exactly — GPUs, tenant use, running
/// sets, counters, quota version — and nobody is evicted.</para>
/// <para>With today's choice of victims the placement cannot fail, which is why no scenario shows it:
/// topology — victims are grouped by the unit of the job's own level (node, NVLink domain, pool) and
/// chosen inside one unit until its free GPUs plus theirs reach the job's size, so what they free forms
/// a fitting unit whatever else they span (or, where a unit already fits and only power lacks, anywhere
/// in its pool); power — they also make up what the site's cap lacks, counting
/// only their GPUs in the unit's pool, and a pool's power room grows by exactly one GPU for each of its
/// GPUs released; holds — the search and the placement read the same visible free counts, and nothing
/// holds or takes GPUs in between; quota — the job's allowed class was fixed before the search and is not
/// asked again, so use that drops as victims stop cannot refuse it. The placer's best fit then finds
/// that unit (or a tighter one). The transaction makes this a checked property rather than an
/// assumption, for any future choice made on something the placer reads differently.</para>
/// </summary>
internal sealed class Preemptor(Fleet fleet, ClusterState state, GangPlacer placer, TenantLedger ledger, RunningJobs running,
    QuotaGate quotas, SettledJobKinds settled, SchedulerOptions options)
{
    /// <summary>Most candidate victims in one unit for which every set is tried (2^10 sets) when the greedy choice cannot spare guarantees.</summary>
    private const int ExhaustiveVictims = 10;

    private readonly List<Victim> _victims = [];
    private readonly List<StoppedJob> _stopped = [];
    // Per unit (node, NVLink domain or pool, indexed by level then id): its victims in the search that last
    // touched it, and a victim's GPUs there. Arrays rather than dictionaries: every search fills them for
    // thousands of victims, and a fleet's units are numbered densely.
    // Made at the first search: a fleet that never evicts does not carry them.
    private UnitVictims?[][]? _units;
    private readonly List<(PlacementLevel, int)> _searchUnits = [];
    private long _searchStamp;
    private (long Stamp, int Gpus)[][]? _victimUnits;
    private readonly List<(PlacementLevel, int)> _touchedUnits = [];
    // Units in the order of their cheapest victim, then as the search used to take them (level, then id).
    private readonly PriorityQueue<UnitCandidate, (double CheapestLost, (int Order, int Id) Unit)> _candidates = new();
    // Power-only choices rank after every unit on a full tie.
    private const int PowerOnlyOrder = int.MaxValue;
    // Per search for victims: what each (tenant, model) runs beyond its guarantee, and what a choice takes of it.
    private readonly Dictionary<(int Tenant, int Model), int> _surplus = [];
    private readonly Dictionary<(int Tenant, int Model), int> _taken = [];
    private long _victimStamp;

    /// <summary>Places the job once its victims are stopped; tests replace it to force a placement that fails.</summary>
    internal Func<JobClass, (int Pool, GpuAllocation[] Gpus)?> PlaceAfterEviction { get; set; } = placer.TryPlace;

    /// <summary>Whether the cycle may still look for victims: the policy preempts and the per-cycle limits are not used up.</summary>
    public bool CanEvictMore(SchedulingCycle cycle) => options.Policy.Preemption
        && cycle.PreemptionAttempts < options.MaxPreemptionAttemptsPerCycle
        && cycle.Preemptions.Count < options.MaxEvictionsPerCycle;

    /// <summary>Whether a job that failed to place may still evict its way in during this cycle.</summary>
    public bool MayStillPreempt(JobRecord job, JobClass c, bool guaranteed, SchedulingCycle cycle) =>
        c.Slice is null && CanEvictMore(cycle) && c.NoVictimsUntil <= cycle.Now && (guaranteed || running.PreemptibleOf(job.Tenant) > 0);

    /// <summary>
    /// Places <paramref name="job"/> as a member of <paramref name="c"/> by evicting running gangs, or
    /// returns null with nothing changed.
    /// <para>Worked example — a 48-GPU job (one pool) needs 40 more GPUs; borrowers run a 376-GPU gang for
    /// 2 h (lost work 752 GPU-h) and six 8-GPU jobs for 1 h (8 GPU-h each). Taking the least lost work
    /// first gives five 8-GPU jobs (40 GPUs, 40 GPU-h lost); the pruning pass then drops any victim the
    /// others cover. The 376-GPU gang is never touched.</para>
    /// The unit searched is the job's own placement level: a node for a job that must fit in one, an
    /// NVLink domain, or a pool (one model at one site). Victims free GPUs in the unit and, where the site's
    /// power cap binds, power. A choice that takes from no other tenant more than its work (best-effort
    /// aside) runs beyond its guarantee wins over one that does; then the least lost work, then the fewest
    /// GPUs evicted.
    /// </summary>
    /// <param name="place">
    /// What places the job once victims are stopped; null: <see cref="PlaceAfterEviction"/> for <paramref name="c"/>.
    /// A job of slices evicts for the whole GPUs of one node (<paramref name="c"/> is that class) and places its
    /// slices with this.
    /// </param>
    public (int Pool, GpuAllocation[] Gpus, long Delay)? TryPreempt(JobRecord job, JobClass c, bool guaranteed, SchedulingCycle cycle,
        Func<(int Pool, GpuAllocation[] Gpus)?>? place = null)
    {
        // A borrowing job may only preempt its own tenant's lower classes: with none running, do not spend an attempt.
        var now = cycle.Now;
        // Slices are never evicted (a shared GPU frees only when all its slices end, which the search by units cannot see).
        if (c.Slice is not null || !CanEvictMore(cycle) || (!guaranteed && running.PreemptibleOf(job.Tenant) == 0) || c.NoVictimsUntil > now) return null;
        var slices = place;
        place ??= () => PlaceAfterEviction(c);
        // A class that failed earlier in this cycle comes here without trying to place: evictions since then
        // may have left enough free (a gang evicted for a smaller job), and those are taken before evicting
        // more. Within a cycle only evictions free GPUs, so without any the attempt would fail again.
        if (cycle.Preemptions.Count > 0 && (slices is null ? placer.TryPlace(c) : slices()) is { } unused) return (unused.Pool, unused.Gpus, 0);
        cycle.PreemptionAttempts++;
        var best = ChooseUnitVictims(job, c, guaranteed, now);
        if (best is null) return NoVictims(c, now);
        // More victims than a cycle may ever evict: reclaim cannot help this class now; it waits for its reservation.
        if (best.Count > options.MaxEvictionsPerCycle) return NoVictims(c, now);
        if (cycle.Preemptions.Count + best.Count > options.MaxEvictionsPerCycle) return null;
        return EvictAndPlace(job, c, best, cycle, place);
    }

    /// <summary>
    /// The transaction: stop the victims tentatively, place the job, then commit the evictions; or, if the
    /// job does not place, resume every victim as it was (in reverse order) and evict nobody.
    /// </summary>
    private (int Pool, GpuAllocation[] Gpus, long Delay)? EvictAndPlace(JobRecord job, JobClass c, List<(Victim Victim, int Gpus)> victims, SchedulingCycle cycle,
        Func<(int Pool, GpuAllocation[] Gpus)?> place)
    {
        var quotaVersion = quotas.Version;
        _stopped.Clear();
        foreach (var (victim, _) in victims)
        {
            _stopped.Add(running.Remember(victim.Job));
            running.Stop(victim.Job);
        }
        var placed = place();
        if (placed is not { } p)
        {
            for (var i = victims.Count - 1; i >= 0; i--) running.Resume(victims[i].Victim.Job, _stopped[i]);
            quotas.RestoreVersion(quotaVersion);
            return NoVictims(c, cycle.Now);
        }

        long grace = 0;
        var requested = job.FirstBlockedAt ?? cycle.Now;
        foreach (var (victim, _) in victims)
        {
            var v = victim.Job;
            grace = Math.Max(grace, v.PriorityClass.GraceSeconds);
            cycle.Preemptions.Add(new PreemptionDecision(v.Spec.Id, v.Spec.Tenant, job.Spec.Id, job.Spec.Tenant, v.Spec.Gpus,
                victim.Lost, v.PriorityClass.GraceSeconds, victim.Kind, requested));
            settled.NewGeneration();
            v.SetReason(cycle.Epoch, PendingReason.Preempted, job.Spec.Id, null);
            cycle.Evicted.Add(v);
        }
        return (p.Pool, p.Gpus, grace);
    }

    /// <summary>
    /// The candidate victims, grouped by the unit the job would be placed in, and the best choice of
    /// them in any one unit; null when no unit can be freed.
    /// </summary>
    private List<(Victim Victim, int Gpus)>? ChooseUnitVictims(JobRecord job, JobClass c, bool guaranteed, long now)
    {
        _victims.Clear();
        // An owner that reclaims guests: its tenant, within its guarantee, may take back its owner's sites from other owners' work.
        var owner = ledger.Owner(job.Tenant);
        var guestsOf = guaranteed && ledger.ReclaimsGuests && ledger.ReclaimsGuestsAsOwner(owner) ? owner : -1;
        for (var t = 0; t < running.TenantCount; t++)
        {
            var own = t == job.Tenant;
            var mayBeGuest = guestsOf >= 0 && ledger.Owner(t) != guestsOf;
            if (!own && !(guaranteed && (running.BestEffortOf(t) > 0 || mayBeGuest || BorrowingAny(t, c.ModelMask)))) continue;
            foreach (var v in running.OfTenant(t))
            {
                if (v.Class.Slice is not null || v.StartTime >= now || now - v.StartTime < v.PriorityClass.MinRuntimeSeconds) continue;
                if ((c.ModelMask & (1UL << v.Model)) == 0) continue;
                // Decided once per victim: the search below asks again for every set of victims it tries.
                var guest = mayBeGuest && IsGuest(v, guestsOf);
                PreemptionKind kind;
                if (guaranteed && (v.BestEffortRun || (!own && ledger.Borrowing(t, v.Model)) || guest)) kind = PreemptionKind.Reclaim;
                else if (own && v.PriorityClass.Preemptible && v.Priority < job.Priority) kind = PreemptionKind.Priority;
                else continue;
                _victims.Add(new Victim(v, kind, LostGpuSeconds(v, now), guest));
            }
        }
        if (_victims.Count == 0) return null;
        long reachable = 0;
        foreach (var v in _victims) reachable += v.Job.Spec.Gpus;
        foreach (var pool in c.Pools) reachable += state.PoolUsable(pool);
        if (reachable < c.Gpus) return null;

        // Group the victims' GPUs by the unit the job would be placed in: per victim, sum its GPUs per
        // unit first (a 1,024-GPU gang spans 256 nodes), then add one entry per unit it touches.
        // Units are stamped per search rather than cleared, and keep their lists: a national fleet has thousands.
        var search = ++_searchStamp;
        _searchUnits.Clear();
        _units ??= [new UnitVictims?[fleet.NodeCount], new UnitVictims?[fleet.DomainCount], new UnitVictims?[fleet.PoolCount]];
        _victimUnits ??= [new (long, int)[fleet.NodeCount], new (long, int)[fleet.DomainCount], new (long, int)[fleet.PoolCount]];
        foreach (var v in _victims)
        {
            // Entries stamped per victim rather than cleared: a victim touches few of the fleet's units.
            var stamp = ++_victimStamp;
            _touchedUnits.Clear();
            foreach (var alloc in v.Job.Gpus!)
            {
                var pool = fleet.NodePool(alloc.Node);
                var pos = c.PoolPosition[pool];
                if (pos < 0) continue;
                (PlacementLevel, int) unit = c.Levels[pos] switch
                {
                    PlacementLevel.Node => (PlacementLevel.Node, alloc.Node),
                    PlacementLevel.Domain => (PlacementLevel.Domain, fleet.NodeDomain(alloc.Node)),
                    PlacementLevel.Pool => (PlacementLevel.Pool, pool),
                    _ => (PlacementLevel.Impossible, -1),
                };
                if (unit.Item1 == PlacementLevel.Impossible) continue;
                ref var seen = ref _victimUnits[(int)unit.Item1][unit.Item2];
                if (seen.Stamp == stamp) seen.Gpus += alloc.Count;
                else
                {
                    seen = (stamp, alloc.Count);
                    _touchedUnits.Add(unit);
                }
            }
            foreach (var unit in _touchedUnits)
            {
                var entry = _units[(int)unit.Item1][unit.Item2] ??= new UnitVictims();
                if (entry.Search != search)
                {
                    entry.Search = search;
                    entry.Victims.Clear();
                    _searchUnits.Add(unit);
                }
                entry.Victims.Add((v, _victimUnits[(int)unit.Item1][unit.Item2].Gpus));
            }
        }

        List<(Victim Victim, int Gpus)>? best = null;
        (bool Pushes, double Lost, int Gpus) bestCost = (true, double.MaxValue, int.MaxValue);
        var bestUnit = (Order: int.MaxValue, Id: int.MaxValue);
        _surplus.Clear();
        _candidates.Clear();
        foreach (var unitKey in _searchUnits)
        {
            var (level, id) = unitKey;
            var list = _units[(int)level][id]!.Victims;
            var (free, pool) = level switch
            {
                PlacementLevel.Node => (state.NodeFree(id), fleet.NodePool(id)),
                PlacementLevel.Domain => (state.DomainFree(id), fleet.DomainPool(id)),
                _ => (state.PoolFree(id), id),
            };
            var need = c.Gpus - free;
            // GPUs of the pool that must stop for the job to start within its site's power cap.
            var powerNeed = c.Gpus - state.PoolPowerRoom(pool);
            if (need <= 0 && powerNeed <= 0) continue;
            var held = 0;
            foreach (var x in list) held += x.Gpus;
            if (held < need) continue;
            list.Sort(LeastLostFirst);
            var candidate = new UnitCandidate(((int)level, id), list, need, powerNeed, pool);
            _candidates.Enqueue(candidate, (list[0].Victim.Lost, candidate.Unit));
        }
        // The best unit is the least (guarantees spared, lost work, GPUs evicted, unit) whatever the order they are
        // tried in. Tried in order of their cheapest victim: a unit loses at least that victim's work (a choice
        // holds one victim or more, and no work lost is negative), so once it exceeds what the best choice that
        // spares guarantees loses, no later unit can win, and a national fleet's thousands of nodes with a
        // victim are not each searched.
        while (_candidates.TryDequeue(out var u, out _))
        {
            if (best is not null && !bestCost.Pushes && u.Victims[0].Victim.Lost > bestCost.Lost) break;
            Consider(u.Victims, u.Need, u.PowerNeed, u.Pool, u.Unit);
        }

        // A node or domain with enough free GPUs may lack only power: its site's cap binds. It holds no
        // victim, so the units above never name it, yet a choice that stops any work of its pool frees the
        // power it lacks without emptying a second unit.
        for (var pos = 0; pos < c.Pools.Length; pos++)
        {
            var pool = c.Pools[pos];
            var powerNeed = c.Gpus - state.PoolPowerRoom(pool);
            var fits = c.Levels[pos] switch
            {
                PlacementLevel.Node => state.Nodes.FirstAtLeast(pool, c.Gpus) >= 0,
                PlacementLevel.Domain => state.Domains.FirstAtLeast(pool, c.Gpus) >= 0,
                _ => false,
            };
            if (powerNeed <= 0 || !fits) continue;
            var list = new List<(Victim Victim, int Gpus)>();
            foreach (var v in _victims) if (InPool(v.Job, pool) is var inPool and > 0) list.Add((v, inPool));
            list.Sort(LeastLostFirst);
            // After every unit on a full tie, as these were tried after them.
            Consider(list, 0, powerNeed, pool, (PowerOnlyOrder, pos));
        }
        return best;

        void Consider(List<(Victim Victim, int Gpus)> list, int need, int powerNeed, int pool, (int Order, int Id) unit)
        {
            // A tenant keeps its guarantee: a choice that takes from other tenants only the work they run
            // beyond theirs is preferred to one that takes more, whatever work it loses.
            var chosen = ChooseVictims(list, need, powerNeed, pool, job.Tenant, spare: true);
            var pushes = chosen is null;
            chosen ??= ChooseVictims(list, need, powerNeed, pool, job.Tenant, spare: false);
            if (chosen is null) return;
            var cost = (pushes, chosen.Sum(x => x.Victim.Lost), chosen.Sum(x => x.Victim.Job.Spec.Gpus));
            if ((!cost.pushes && bestCost.Pushes) || (cost.pushes == bestCost.Pushes
                && (cost.Item2 < bestCost.Lost || (cost.Item2 == bestCost.Lost
                    && (cost.Item3 < bestCost.Gpus || (cost.Item3 == bestCost.Gpus && unit.CompareTo(bestUnit) < 0))))))
            {
                best = chosen;
                bestCost = cost;
                bestUnit = unit;
            }
        }
    }

    /// <summary>The victims of one unit in the search that last touched it.</summary>
    private sealed class UnitVictims
    {
        public long Search;
        public List<(Victim Victim, int Gpus)> Victims { get; } = [];
    }

    /// <summary>A unit (a placement level and the node, domain or pool) whose victims could free what the job needs there.</summary>
    private readonly record struct UnitCandidate((int Order, int Id) Unit, List<(Victim Victim, int Gpus)> Victims, int Need, int PowerNeed, int Pool);

    /// <summary>Least lost work first, then the most GPUs in the unit, then the lowest id: the same choice on every run.</summary>
    private static int LeastLostFirst((Victim Victim, int Gpus) a, (Victim Victim, int Gpus) b) =>
        a.Victim.Lost != b.Victim.Lost ? a.Victim.Lost.CompareTo(b.Victim.Lost)
        : a.Gpus != b.Gpus ? b.Gpus.CompareTo(a.Gpus) : a.Victim.Job.Spec.Id.CompareTo(b.Victim.Job.Spec.Id);

    /// <summary>
    /// Victims from <paramref name="list"/> (sorted, least lost work first) that free <paramref name="need"/>
    /// GPUs of the unit and <paramref name="powerNeed"/> GPUs of its pool (power), or null. With
    /// <paramref name="spare"/>, they take from no other tenant more than it runs beyond its guarantee:
    /// greedily, and if that fails, for a unit of at most <see cref="ExhaustiveVictims"/> candidates by
    /// trying every set, least lost work first.
    /// </summary>
    private List<(Victim Victim, int Gpus)>? ChooseVictims(List<(Victim Victim, int Gpus)> list, int need, int powerNeed, int pool, int preemptorTenant, bool spare)
    {
        var chosen = new List<(Victim Victim, int Gpus)>();
        int freed = 0, powerFreed = 0;
        _taken.Clear();
        foreach (var x in list)
        {
            if (freed >= need && powerFreed >= powerNeed) break;
            if (spare && !Take(x.Victim, preemptorTenant)) continue;
            chosen.Add(x);
            freed += x.Gpus;
            powerFreed += InPool(x.Victim.Job, pool);
        }
        if (freed >= need && powerFreed >= powerNeed)
        {
            // Never evict more than needed: drop every victim the others already cover, costliest first.
            for (var i = chosen.Count - 1; i >= 0; i--)
            {
                var inPool = InPool(chosen[i].Victim.Job, pool);
                if (freed - chosen[i].Gpus < need || powerFreed - inPool < powerNeed) continue;
                freed -= chosen[i].Gpus;
                powerFreed -= inPool;
                chosen.RemoveAt(i);
            }
            return chosen;
        }
        if (!spare || list.Count > ExhaustiveVictims) return null;
        // No set spares guarantees when the victims that each fit their tenant's surplus do not free enough together.
        (freed, powerFreed) = (0, 0);
        foreach (var x in list)
        {
            if (Guarded(x.Victim, preemptorTenant) && x.Victim.Job.Spec.Gpus > Surplus(x.Victim.Job)) continue;
            freed += x.Gpus;
            powerFreed += InPool(x.Victim.Job, pool);
        }
        if (freed < need || powerFreed < powerNeed) return null;
        List<(Victim Victim, int Gpus)>? best = null;
        (double Lost, int Gpus) bestCost = (double.MaxValue, int.MaxValue);
        for (var set = 1; set < 1 << list.Count; set++)
        {
            (freed, powerFreed) = (0, 0);
            double lost = 0;
            var gpus = 0;
            var spares = true;
            _taken.Clear();
            for (var i = 0; i < list.Count && spares; i++)
            {
                if ((set & (1 << i)) == 0) continue;
                var v = list[i].Victim;
                spares = Take(v, preemptorTenant);
                freed += list[i].Gpus;
                powerFreed += InPool(v.Job, pool);
                lost += v.Lost;
                gpus += v.Job.Spec.Gpus;
            }
            if (!spares || freed < need || powerFreed < powerNeed || lost > bestCost.Lost || (lost == bestCost.Lost && gpus >= bestCost.Gpus)) continue;
            best = [.. list.Where((_, i) => (set & (1 << i)) != 0)];
            bestCost = (lost, gpus);
        }
        return best;
    }

    private int InPool(JobRecord victim, int pool)
    {
        var gpus = 0;
        foreach (var a in victim.Gpus!) if (fleet.NodePool(a.Node) == pool) gpus += a.Count;
        return gpus;
    }

    /// <summary>
    /// Best-effort work is never guaranteed, the preemptor's own lower classes are its own to give up, and a
    /// guest's guarantee is its own owner's sites' to honour, not the preemptor's owner's.
    /// </summary>
    private static bool Guarded(Victim victim, int preemptorTenant) =>
        victim.Job.Tenant != preemptorTenant && !victim.Job.BestEffortRun && !victim.Guest;

    /// <summary>Whether the victim runs, as another owner's work, on a site of <paramref name="owner"/>, which reclaims guests.</summary>
    private bool IsGuest(JobRecord victim, int owner)
    {
        foreach (var a in victim.Gpus!)
            if (ledger.IsGuest(victim.Tenant, fleet.NodePool(a.Node), owner)) return true;
        return false;
    }

    /// <summary>GPUs of the victim's model its tenant runs beyond its guarantee, best-effort work aside: what a reclaim may take.</summary>
    private int Surplus(JobRecord victim)
    {
        var key = (victim.Tenant, victim.Model);
        if (_surplus.TryGetValue(key, out var surplus)) return surplus;
        var use = 0;
        foreach (var r in running.OfTenant(victim.Tenant)) if (r.Model == victim.Model && !r.BestEffortRun && r.Class.Slice is null) use += r.Spec.Gpus;
        return _surplus[key] = Math.Max(0, use - ledger.Guarantee(victim.Tenant, victim.Model));
    }

    /// <summary>Counts a guarded victim against its tenant's surplus; false when the choice would then take more than the surplus.</summary>
    private bool Take(Victim v, int preemptorTenant)
    {
        if (!Guarded(v, preemptorTenant)) return true;
        var victim = v.Job;
        var key = (victim.Tenant, victim.Model);
        var taken = _taken.GetValueOrDefault(key) + victim.Spec.Gpus;
        if (taken > Surplus(victim)) return false;
        _taken[key] = taken;
        return true;
    }

    /// <summary>No victims free this class: the next search for it waits a preemption period.</summary>
    private (int Pool, GpuAllocation[] Gpus, long Delay)? NoVictims(JobClass c, long now)
    {
        c.NoVictimsUntil = now + options.PreemptionRetrySeconds;
        return null;
    }

    private bool BorrowingAny(int tenant, ulong models)
    {
        for (var bits = models; bits != 0; bits &= bits - 1)
            if (ledger.Borrowing(tenant, System.Numerics.BitOperations.TrailingZeroCount(bits))) return true;
        return false;
    }

    /// <summary>Work an eviction loses: GPUs × time since the last checkpoint (since the start without checkpoints).</summary>
    private static double LostGpuSeconds(JobRecord v, long now)
    {
        var ran = now - v.StartTime;
        var interval = v.Spec.CheckpointIntervalSeconds;
        var sinceCheckpoint = interval > 0 ? ran % interval : ran;
        return (double)v.Spec.Gpus * sinceCheckpoint;
    }

    /// <param name="Guest">Another owner's work on a site of the owner whose guests the search reclaims (<see cref="IsGuest"/>).</param>
    private readonly record struct Victim(JobRecord Job, PreemptionKind Kind, double Lost, bool Guest);
}
