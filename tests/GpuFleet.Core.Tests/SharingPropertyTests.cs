using System.Numerics;
using CsCheck;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Tests;

/// <summary>
/// Guarantees, lending and reclaim over random tenant trees (owners and their projects, guarantees,
/// borrowing limits), the built-in priority classes and gangs of up to three nodes under the shared
/// policy. Each cycle's evictions are replayed against the state before them (who ran where, each
/// project's use) and checked: reclaim takes only from projects above their guarantee (or from
/// best-effort work), priority preemption only from lower preemptible classes of the same project,
/// nobody before its minimum runtime; every eviction serves a job that starts in the same cycle and
/// could not start without it, and no victim could be spared; a project is pushed below its guarantee
/// only when no other choice of victims would have freed enough. Borrowing limits and the power cap hold
/// after every cycle.
/// </summary>
[Trait("Category", "Property")]
public sealed class SharingPropertyTests
{
    private const int NodeGpus = 8;
    private static readonly int[] Sizes = [1, 2, 4, 8, 8, 16, 24];
    // Built-in classes, normal work the most common: production, normal ×3, preemptible ×2, best-effort.
    private static readonly PriorityClass[] ClassPick =
    [
        PriorityClass.Production, PriorityClass.Normal, PriorityClass.Normal, PriorityClass.Normal,
        PriorityClass.PreemptibleClass, PriorityClass.PreemptibleClass, PriorityClass.BestEffortClass,
    ];

    private sealed record LeafData(int Guarantee, int? BorrowLimit);
    private sealed record OwnerData(int? BorrowLimit, LeafData[] Leaves);
    private sealed record JobData(int Gpus, int Runtime, int Gap, int Leaf, int Class, int Checkpoint);

    private sealed record Case(int Nodes, double CapShare, OwnerData[] Owners, JobData[] Jobs)
    {
        public override string ToString() =>
            $"{Nodes} nodes, cap {CapShare:F3} of full load, owners [{string.Join("; ", Owners.Select(o => $"limit {o.BorrowLimit?.ToString() ?? "-"}: {string.Join(", ", o.Leaves.Select(l => $"g{l.Guarantee}/limit {l.BorrowLimit?.ToString() ?? "-"}"))}"))}], " +
            $"jobs [{string.Join(", ", Jobs.Select(j => $"{j.Gpus}g {j.Runtime}s +{j.Gap} leaf{j.Leaf} {ClassPick[j.Class].Name} ckpt{j.Checkpoint}"))}]";
    }

    private static readonly Gen<int?> Limit = Gen.Int[0, 24].Select(x => x > 16 ? (int?)null : x);

    private static readonly Gen<Case> Cases =
        from nodes in Gen.Int[2, 6]
        from cap in Gen.Double[0.5, 1.3]
        from owners in Gen.Select(Limit.Select(l => l is null ? null : l + 8), Gen.Select(Gen.Int[0, 16], Limit, (g, l) => new LeafData(g, l)).Array[1, 2],
            (limit, leaves) => new OwnerData(limit, leaves)).Array[2, 3]
        from jobs in Gen.Select(Gen.Int[0, Sizes.Length - 1].Select(i => Sizes[i]), Gen.Int[1, 3000], Gen.Int[0, 400], Gen.Int[0, 5], Gen.Int[0, ClassPick.Length - 1],
            Gen.Int[0, 2].Select(i => i * 500), (gpus, runtime, gap, leaf, cls, checkpoint) => new JobData(gpus, runtime, gap, leaf, cls, checkpoint)).Array[1, 50]
        select new Case(nodes, cap, owners, jobs);

    private static long _reclaims, _priorityPreemptions, _multiNodeEvictions, _pushedBelowUnavoidably;

    [Fact]
    public void Lending_and_reclaim_keep_their_promises()
    {
        _reclaims = _priorityPreemptions = _multiNodeEvictions = _pushedBelowUnavoidably = 0;
        Cases.Sample(c => new Replay(c).Run(), iter: 400, print: c => c.ToString());
        // The promises were put to the test: lent GPUs were reclaimed, higher classes preempted lower ones,
        // and gangs spanning nodes were among the victims.
        Assert.True(_reclaims > 0, "no reclaim happened");
        Assert.True(_priorityPreemptions > 0, "no priority preemption happened");
        Assert.True(_multiNodeEvictions > 0, "no multi-node gang was evicted");
    }

    /// <summary>One generated case, run through the scheduler, with the state the checks replay evictions against.</summary>
    private sealed class Replay
    {
        private sealed record Running(long Id, int Leaf, int Gpus, GpuAllocation[] Alloc, long Start, PriorityClass Class);

        private readonly Case _c;
        private readonly Fleet _fleet;
        private readonly FleetScheduler _scheduler;
        private readonly string[] _leafNames;
        private readonly int[] _guarantee;
        private readonly int[] _leafUse;
        private readonly ulong[] _used;
        private readonly Dictionary<long, Running> _running = [];
        private readonly long _roomMw0;
        private readonly long _stepMw;
        private int _busy;

        public Replay(Case c)
        {
            _c = c;
            // Power: idle 100 W per GPU, each busy GPU +600 W, PUE 1; the cap allows a random share of full load.
            var full = c.Nodes * NodeGpus * 700.0;
            _fleet = new Fleet("p", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", full * c.CapShare / 1e6, 1.0)],
                [new GpuPoolSpec("s", "G", NodeGpus, 1, c.Nodes, 0)]);
            // Guarantees are scaled down to fit the fleet.
            var leaves = c.Owners.SelectMany(o => o.Leaves).ToArray();
            var total = leaves.Sum(l => l.Guarantee);
            var fleetGpus = c.Nodes * NodeGpus;
            _guarantee = [.. leaves.Select(l => l.Guarantee * fleetGpus / Math.Max(total, fleetGpus))];
            _leafNames = [.. leaves.Select((_, i) => $"p{i}")];
            var specs = new List<TenantSpec>();
            var k = 0;
            for (var o = 0; o < c.Owners.Length; o++)
            {
                specs.Add(new TenantSpec($"o{o}", null, new Dictionary<string, int>(), BorrowLimitGpus: c.Owners[o].BorrowLimit));
                foreach (var leaf in c.Owners[o].Leaves)
                {
                    specs.Add(new TenantSpec(_leafNames[k], $"o{o}", new Dictionary<string, int> { ["G"] = _guarantee[k] }, BorrowLimitGpus: leaf.BorrowLimit));
                    k++;
                }
            }
            _scheduler = new FleetScheduler(_fleet, new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = new TenantTree(specs) });
            _leafUse = new int[leaves.Length];
            _used = new ulong[_fleet.NodeCount];
            // The cap check in the scheduler's own units (milliwatts, rounded against the job), to know how many GPUs may start.
            _roomMw0 = (long)Math.Floor(_fleet.Sites[0].PowerCapMw * 1e9) - (long)Math.Ceiling(_fleet.SitePowerWatts(0, new int[1]) * 1e3);
            _stepMw = 600_000;
        }

        private int PowerRoom(int busy) => _roomMw0 - busy * _stepMw is var room && room > 0 ? (int)(room / _stepMw) : 0;
        private JobData Job(long id) => _c.Jobs[id - 1];
        private int LeafOf(long id) => Job(id).Leaf % _leafNames.Length;
        private PriorityClass ClassOf(long id) => ClassPick[Job(id).Class];

        public void Run()
        {
            var ends = new PriorityQueue<(long Id, int Version), long>();
            var version = new Dictionary<long, int>();
            long t = 0;
            var next = 0;
            while (next < _c.Jobs.Length || ends.Count > 0)
            {
                var now = next < _c.Jobs.Length ? t + _c.Jobs[next].Gap : long.MaxValue;
                if (ends.TryPeek(out _, out var e) && e < now) now = e;
                while (ends.TryPeek(out var ev, out var at) && at == now)
                {
                    ends.Dequeue();
                    if (version[ev.Id] != ev.Version) continue;
                    Assert.True(_scheduler.End(ev.Id, now));
                    Stop(ev.Id);
                }
                if (next < _c.Jobs.Length && t + _c.Jobs[next].Gap == now)
                {
                    var j = _c.Jobs[next++];
                    t = now;
                    var id = (long)next;
                    version[id] = 0;
                    var result = _scheduler.Submit(JobBuilder.Job(id).Tenant(_leafNames[LeafOf(id)]).Gpus(j.Gpus).Limit(j.Runtime).At(now)
                        .Class(ClassOf(id).Name).Checkpoint(j.Checkpoint).Build());
                    // Refused only when it could never run: larger than the fleet, beyond guarantee plus borrowing limit, or beyond the power cap.
                    if (!result.Accepted)
                        Assert.True(j.Gpus > _fleet.TotalGpus || j.Gpus > MostRunnable(LeafOf(id)) || result.Error!.Contains("power caps"), result.Error);
                }

                var cycle = _scheduler.RunCycle(now);
                var byPreemptor = cycle.Preemptions.GroupBy(p => p.PreemptorJobId).ToDictionary(g => g.Key, g => g.ToList());
                foreach (var preemptor in byPreemptor.Keys)
                    Assert.True(cycle.Placements.Any(p => p.JobId == preemptor), $"t={now}: jobs were evicted for job {preemptor}, which did not start");
                // Placements are in the order the cycle made them; a placement's evictions came just before it.
                var held = cycle.Reservation?.HeldGpus ?? 0;
                foreach (var p in cycle.Placements)
                {
                    if (byPreemptor.TryGetValue(p.JobId, out var victims))
                    {
                        CheckEvictions(now, p, victims, held);
                        foreach (var v in victims)
                        {
                            Stop(v.VictimJobId);
                            version[v.VictimJobId]++;
                        }
                    }
                    Start(p, now);
                    if (p.Borrowed) CheckBorrowingLimits(now, p.JobId);
                    ends.Enqueue((p.JobId, version[p.JobId]), now + p.StartDelaySeconds + Job(p.JobId).Runtime);
                }
                // A project within its guarantee may start even when that takes its owner past the owner's borrowing
                // limit (a sibling borrowed its idle GPUs); a project's own limit always holds.
                for (var leaf = 0; leaf < _leafNames.Length; leaf++)
                    Assert.True(BorrowLimit(_leafNames[leaf]) is not { } limit || _leafUse[leaf] - _guarantee[leaf] <= limit,
                        $"t={now}: {_leafNames[leaf]} borrows {_leafUse[leaf] - _guarantee[leaf]} GPUs, limit {BorrowLimit(_leafNames[leaf])}");
                Assert.True(_fleet.SitePowerWatts(0, _scheduler.BusyByPool) <= _fleet.Sites[0].PowerCapMw * 1e6 + 1e-6, "site above its power cap");
                for (var n = 0; n < _fleet.NodeCount; n++) Assert.Equal(_used[n], _scheduler.NodeUsedMask(n));
            }
            Assert.Equal(0, _scheduler.PendingCount + _scheduler.RunningCount);
        }

        private int? BorrowLimit(string name)
        {
            if (name[0] == 'o') return _c.Owners[int.Parse(name[1..])].BorrowLimit;
            var leaf = int.Parse(name[1..]);
            return _c.Owners.SelectMany(o => o.Leaves).ElementAt(leaf).BorrowLimit;
        }

        private long MostRunnable(int leaf)
        {
            var owner = OwnerOf(leaf);
            var ownerGuarantee = 0;
            var first = _c.Owners.Take(owner).Sum(o => o.Leaves.Length);
            for (var i = 0; i < _c.Owners[owner].Leaves.Length; i++) ownerGuarantee += _guarantee[first + i];
            var most = long.MaxValue;
            if (_c.Owners[owner].BorrowLimit is { } o) most = Math.Min(most, ownerGuarantee + (long)o);
            if (BorrowLimit(_leafNames[leaf]) is { } l) most = Math.Min(most, _guarantee[leaf] + (long)l);
            return most;
        }

        /// <summary>A borrowed start keeps its project and its owner within their borrowing limits.</summary>
        private void CheckBorrowingLimits(long now, long id)
        {
            var leaf = LeafOf(id);
            var owner = OwnerOf(leaf);
            var first = _c.Owners.Take(owner).Sum(o => o.Leaves.Length);
            var ownerUse = Enumerable.Range(first, _c.Owners[owner].Leaves.Length).Sum(l => _leafUse[l]);
            var ownerGuarantee = Enumerable.Range(first, _c.Owners[owner].Leaves.Length).Sum(l => _guarantee[l]);
            Assert.True(_c.Owners[owner].BorrowLimit is not { } limit || ownerUse - ownerGuarantee <= limit,
                $"t={now}: job {id} borrowed, taking o{owner} to {ownerUse - ownerGuarantee} GPUs beyond its guarantee, limit {_c.Owners[owner].BorrowLimit}");
        }

        private int OwnerOf(int leaf)
        {
            var owner = 0;
            for (var seen = 0; seen + _c.Owners[owner].Leaves.Length <= leaf; owner++) seen += _c.Owners[owner].Leaves.Length;
            return owner;
        }

        private void Start(PlacementDecision p, long now)
        {
            var gpus = p.Gpus.Sum(a => a.Count);
            Assert.Equal(Job(p.JobId).Gpus, gpus);
            foreach (var a in p.Gpus)
            {
                Assert.True((_used[a.Node] & a.Mask) == 0, $"t={now}: job {p.JobId} was given a GPU of node {a.Node} that is in use");
                _used[a.Node] |= a.Mask;
            }
            _running.Add(p.JobId, new Running(p.JobId, LeafOf(p.JobId), gpus, p.Gpus, now, ClassOf(p.JobId)));
            _leafUse[LeafOf(p.JobId)] += gpus;
            _busy += gpus;
        }

        private void Stop(long id)
        {
            Assert.True(_running.Remove(id, out var r), $"job {id} stopped but was not running");
            foreach (var a in r.Alloc) _used[a.Node] &= ~a.Mask;
            _leafUse[r.Leaf] -= r.Gpus;
            _busy -= r.Gpus;
        }

        /// <summary>Who runs where, for failure messages.</summary>
        private string State(long now, int held) =>
            $"held {held}; running: {string.Join("; ", _running.Values.OrderBy(r => r.Id).Select(r => $"{r.Id} {_leafNames[r.Leaf]} {r.Class.Name} {r.Gpus}g on [{string.Join(",", r.Alloc.Select(a => $"{a.Node}:{a.Count}"))}] for {now - r.Start} s"))}; " +
            $"use/guarantee: {string.Join(", ", _leafNames.Select((n, i) => $"{n} {_leafUse[i]}/{_guarantee[i]}"))}";

        private int Free(int node) => NodeGpus - BitOperations.PopCount(_used[node]);
        private static int In(Running r, int[] unit) => r.Alloc.Where(a => unit.Contains(a.Node)).Sum(a => a.Count);

        /// <summary>Checks one preemptor's evictions against the state just before them.</summary>
        private void CheckEvictions(long now, PlacementDecision p, List<PreemptionDecision> victims, int held)
        {
            var leaf = LeafOf(p.JobId);
            var cls = ClassOf(p.JobId);
            var g = Job(p.JobId).Gpus;
            var guaranteed = !cls.BestEffort && _leafUse[leaf] + g <= _guarantee[leaf];
            var at = $"t={now}: job {p.JobId} ({g} GPUs, {_leafNames[leaf]} at {_leafUse[leaf]}/{_guarantee[leaf]}, {cls.Name})";
            Assert.True(p.Borrowed == !guaranteed, $"{at}: placed as {(p.Borrowed ? "borrowed" : "guaranteed")}");

            var vs = new List<Running>();
            foreach (var v in victims)
            {
                Assert.True(_running.TryGetValue(v.VictimJobId, out var r), $"{at}: evicted job {v.VictimJobId}, which was not running");
                vs.Add(r);
                Assert.True(r.Start < now && now - r.Start >= r.Class.MinRuntimeSeconds, $"{at}: evicted job {r.Id} {now - r.Start} s after its start");
                if (v.Kind == PreemptionKind.Reclaim)
                {
                    Interlocked.Increment(ref _reclaims);
                    Assert.True(guaranteed, $"{at}: reclaimed job {r.Id} while borrowing itself");
                    // Only from a project above its guarantee, or from best-effort work.
                    Assert.True(r.Class.BestEffort || (r.Leaf != leaf && _leafUse[r.Leaf] > _guarantee[r.Leaf]),
                        $"{at}: reclaimed job {r.Id} of {_leafNames[r.Leaf]}, which ran {_leafUse[r.Leaf]} GPUs of its guarantee of {_guarantee[r.Leaf]}");
                }
                else
                {
                    Interlocked.Increment(ref _priorityPreemptions);
                    Assert.True(r.Leaf == leaf && r.Class.Preemptible && r.Class.Priority < cls.Priority,
                        $"{at}: preempted job {r.Id} of {_leafNames[r.Leaf]} ({r.Class.Name})");
                }
                if (r.Alloc.Length > 1) Interlocked.Increment(ref _multiNodeEvictions);
            }

            // The unit the job needs: the node it was put on for a job that fits one, else the whole pool.
            var allNodes = Enumerable.Range(0, _fleet.NodeCount).ToArray();
            var unit = g <= NodeGpus ? [p.Gpus.Single().Node] : allNodes;
            var units = g <= NodeGpus ? allNodes.Select(n => new[] { n }).ToArray() : [allNodes];
            // GPUs held for a reservation are not free to this job: count them all against every unit (never more than the truth).
            int FreeIn(int[] u) => u.Sum(Free) - held;
            var power = PowerRoom(_busy);
            Assert.False(power >= g && units.Any(u => FreeIn(u) >= g), $"{at}: evicted [{string.Join(",", vs.Select(v => v.Id))}] although it fit on free GPUs; {State(now, held)}");
            // No victim could be spared: without any one of them the job would not fit, in GPUs or under the power cap.
            var freed = vs.Sum(v => In(v, unit));
            var stopped = vs.Sum(v => v.Gpus);
            foreach (var v in vs)
                Assert.True(FreeIn(unit) + freed - In(v, unit) < g || power + stopped - v.Gpus < g,
                    $"{at}: evicted [{string.Join(",", vs.Select(x => $"{x.Id}:{In(x, unit)}"))}] on nodes [{string.Join(",", unit)}] with {FreeIn(unit)} free and power for {power}; job {v.Id} was not needed");

            // A project pushed below its guarantee by this choice, when another choice would have pushed none.
            var pushed = PushedBelow(leaf, vs);
            if (pushed.Count == 0) return;
            var eligible = _running.Values.Where(r => Eligible(r, leaf, cls, guaranteed, now)).ToList();
            foreach (var u in units)
            {
                var spared = SparingChoice(u, g, FreeIn(u), power, leaf, eligible);
                Assert.True(spared is null,
                    $"{at}: evicted [{string.Join(",", vs.Select(v => v.Id))}], pushing {string.Join(", ", pushed)} below its guarantee; " +
                    $"evicting [{string.Join(",", spared ?? [])}] would have pushed no project below its guarantee; {State(now, held)}");
            }
            Interlocked.Increment(ref _pushedBelowUnavoidably);
        }

        /// <summary>Whether the scheduler's rules let <paramref name="r"/> be evicted for a job of this project and class.</summary>
        private bool Eligible(Running r, int leaf, PriorityClass cls, bool guaranteed, long now)
        {
            if (r.Start >= now || now - r.Start < r.Class.MinRuntimeSeconds) return false;
            if (guaranteed && (r.Class.BestEffort || (r.Leaf != leaf && _leafUse[r.Leaf] > _guarantee[r.Leaf]))) return true;
            return r.Leaf == leaf && r.Class.Preemptible && r.Class.Priority < cls.Priority;
        }

        /// <summary>What a reclaim may take from a project: the GPUs its work (best-effort aside) runs beyond its guarantee.</summary>
        private int Surplus(int leaf) => Math.Max(0, _running.Values.Where(r => r.Leaf == leaf && !r.Class.BestEffort).Sum(r => r.Gpus) - _guarantee[leaf]);

        /// <summary>Projects (other than the preemptor's) of which <paramref name="victims"/> take more work, best-effort aside, than runs beyond their guarantee.</summary>
        private List<string> PushedBelow(int leaf, IEnumerable<Running> victims) =>
            [.. victims.Where(v => v.Leaf != leaf && !v.Class.BestEffort).GroupBy(v => v.Leaf).Where(x => x.Sum(v => v.Gpus) > Surplus(x.Key))
                .Select(x => $"{_leafNames[x.Key]} (takes {x.Sum(v => v.Gpus)} of its work, {Surplus(x.Key)} beyond its guarantee of {_guarantee[x.Key]})")];

        /// <summary>
        /// A set of eligible victims that frees enough in <paramref name="unit"/> (and under the power cap)
        /// and pushes no other project below its guarantee, or null. Every set is tried when the unit has at
        /// most 10 candidates (as the scheduler does); beyond that none is claimed.
        /// </summary>
        private List<long>? SparingChoice(int[] unit, int g, int free, int power, int leaf, List<Running> eligible)
        {
            var candidates = eligible.Where(r => In(r, unit) > 0).ToArray();
            if (candidates.Length > 10) return null;
            for (var set = 1; set < 1 << candidates.Length; set++)
            {
                var chosen = candidates.Where((_, i) => (set & (1 << i)) != 0).ToList();
                if (free + chosen.Sum(r => In(r, unit)) >= g && power + chosen.Sum(r => r.Gpus) >= g && PushedBelow(leaf, chosen).Count == 0)
                    return [.. chosen.Select(r => r.Id)];
            }
            return null;
        }
    }
}
