using System.Numerics;
using CsCheck;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>Invariants over random fleets and workloads, checked after every cycle of a small event loop.</summary>
[Trait("Category", "Property")]
public sealed class SchedulerPropertyTests
{
    private sealed record Job(int Gpus, int Runtime, int Limit, int Gap, int Tenant, bool Node, int Class);

    /// <summary>A fleet of one pool, jobs, and (for the shared policy) each tenant's share of the fleet as its guarantee.</summary>
    private sealed record Workload(int GpusPerNode, int NodesPerDomain, int Domains, Job[] Jobs, int[] GuaranteeShares)
    {
        public override string ToString() =>
            $"{GpusPerNode} GPUs × {NodesPerDomain} nodes × {Domains} domains, shares [{string.Join(",", GuaranteeShares)}], jobs [{string.Join(", ", Jobs.Select(j => j.ToString()))}]";
    }

    private static readonly Gen<Workload> Workloads =
        from gpn in Gen.Int[0, 3].Select(i => 1 << i)
        from npd in Gen.Int[1, 4]
        from domains in Gen.Int[1, 4]
        from jobs in Gen.Select(Gen.Int[1, gpn * npd * domains], Gen.Int[1, 400], Gen.Int[0, 400], Gen.Int[0, 50], Gen.Int[0, 3], Gen.Bool, Gen.Int[0, 3],
                (gpus, runtime, slack, gap, tenant, node, cls) => new Job(gpus, runtime, runtime + slack, gap, tenant, node, cls))
            .Array[1, 60]
        from shares in Gen.Int[0, 4].Array[4]
        select new Workload(gpn, npd, domains, jobs, shares);

    /// <summary>
    /// Classes with short minimum runtimes so that evictions happen within the workloads' few hundred
    /// seconds: two that may be preempted by the higher classes of their tenant, one of them best-effort.
    /// </summary>
    private static readonly PriorityClass[] Classes =
    [
        new("high", 100, false, 20, 5),
        new("normal", 0, false, 20, 5),
        new("low", -100, true, 10, 0),
        new("scavenger", -1000, true, 10, 0, BestEffort: true),
    ];

    private static long _priorityPreemptions, _reclaims, _multiNodeEvictions;

    [Theory]
    [InlineData("fifo")]
    [InlineData("backfill")]
    [InlineData("fairshare")]
    public void Invariants_hold_on_random_workloads(string policyName)
    {
        var policy = SchedulingPolicy.Find(policyName)!;
        Workloads.Sample(w => Replay(w, policy), iter: 300, print: w => w.ToString());
    }

    [Fact]
    public void Invariants_hold_under_preemption_with_tenants_and_classes()
    {
        Interlocked.Exchange(ref _priorityPreemptions, 0);
        Interlocked.Exchange(ref _reclaims, 0);
        Interlocked.Exchange(ref _multiNodeEvictions, 0);
        Workloads.Sample(w => Replay(w, SchedulingPolicy.Shared), iter: 300, print: w => w.ToString());
        // The invariants were checked where it matters: both kinds of eviction happened, multi-node gangs included.
        Assert.True(_priorityPreemptions > 0, "no job was preempted by a higher class of its tenant");
        Assert.True(_reclaims > 0, "no lent GPUs were reclaimed");
        Assert.True(_multiNodeEvictions > 0, "no multi-node gang was evicted");
    }

    private static TenantTree Tree(Workload w)
    {
        // Guarantees: each tenant's share of the fleet, rounded down (so they never exceed it).
        var gpus = w.GpusPerNode * w.NodesPerDomain * w.Domains;
        var total = Math.Max(1, w.GuaranteeShares.Sum());
        return new TenantTree(
            [.. w.GuaranteeShares.Select((share, i) => new TenantSpec($"t{i}", null, new Dictionary<string, int> { ["G"] = share * gpus / total }))],
            Classes);
    }

    private static void Replay(Workload w, SchedulingPolicy policy)
    {
        var shared = policy.Quotas != QuotaMode.None;
        var fleet = new Fleet("p", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)],
            [new GpuPoolSpec("s", "G", w.GpusPerNode, w.NodesPerDomain, w.Domains, 0)]);
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = policy, Tenants = shared ? Tree(w) : TenantTree.Empty });
        var arrivals = new List<(long At, JobSpec Spec, long Runtime)>();
        long t = 0;
        for (var i = 0; i < w.Jobs.Length; i++)
        {
            var j = w.Jobs[i];
            t += j.Gap;
            var need = j.Node ? TopologyNeed.Node : TopologyNeed.Site;
            arrivals.Add((t, JobBuilder.Job(i + 1).Tenant($"t{j.Tenant}").Gpus(j.Gpus).Topology(need).Limit(j.Limit).At(t).Class(shared ? Classes[j.Class].Name : null).Build(), j.Runtime));
        }
        // Job ends carry the run's number: an evicted job's old end is stale.
        var ends = new PriorityQueue<(long Id, int Run), (long, long)>();
        var runs = new Dictionary<long, int>();
        var running = new Dictionary<long, int>();
        var startedAt = new Dictionary<long, long>();
        var pending = new HashSet<long>();
        var finished = new HashSet<long>();
        var firstShadow = new Dictionary<long, long>();
        var next = 0;
        var accepted = 0;
        while (next < arrivals.Count || ends.Count > 0)
        {
            var now = next < arrivals.Count ? arrivals[next].At : long.MaxValue;
            if (ends.TryPeek(out _, out var e) && e.Item1 < now) now = e.Item1;
            while (ends.TryPeek(out var ev, out var at) && at.Item1 == now)
            {
                ends.Dequeue();
                if (runs[ev.Id] != ev.Run) continue;
                Assert.True(scheduler.End(ev.Id, now));
                running.Remove(ev.Id);
                Assert.True(finished.Add(ev.Id), $"job {ev.Id} finished twice");
            }
            while (next < arrivals.Count && arrivals[next].At == now)
            {
                var a = arrivals[next++];
                if (scheduler.Submit(a.Spec).Accepted)
                {
                    accepted++;
                    pending.Add(a.Spec.Id);
                    runs[a.Spec.Id] = 0;
                }
                else Assert.True(a.Spec.Topology == TopologyNeed.Node && a.Spec.Gpus > w.GpusPerNode, "only node-bound jobs larger than a node may be refused");
            }
            var cycle = scheduler.RunCycle(now);
            foreach (var v in cycle.Preemptions)
            {
                // A victim ran before this cycle (not placed in it), for at least its class's minimum runtime.
                Assert.True(running.Remove(v.VictimJobId), $"job {v.VictimJobId} was evicted but was not running before the cycle");
                var victim = arrivals[(int)v.VictimJobId - 1];
                var victimClass = Classes[w.Jobs[(int)v.VictimJobId - 1].Class];
                Assert.True(now - startedAt[v.VictimJobId] >= victimClass.MinRuntimeSeconds, $"job {v.VictimJobId} evicted {now - startedAt[v.VictimJobId]} s after its start");
                Assert.Equal(victim.Spec.Gpus, v.Gpus);
                if (v.Kind == PreemptionKind.Priority)
                {
                    var preemptorClass = Classes[w.Jobs[(int)v.PreemptorJobId - 1].Class];
                    Assert.True(v.VictimTenant == v.PreemptorTenant && victimClass.Preemptible && victimClass.Priority < preemptorClass.Priority,
                        $"job {v.PreemptorJobId} ({v.PreemptorTenant}, {preemptorClass.Name}) preempted job {v.VictimJobId} ({v.VictimTenant}, {victimClass.Name})");
                    Interlocked.Increment(ref _priorityPreemptions);
                }
                else
                {
                    Interlocked.Increment(ref _reclaims);
                }
                runs[v.VictimJobId]++;
                pending.Add(v.VictimJobId);
            }
            foreach (var p in cycle.Placements)
            {
                var spec = arrivals[(int)p.JobId - 1];
                // Only a pending job is placed, and once per cycle.
                Assert.True(pending.Remove(p.JobId) && !running.ContainsKey(p.JobId), $"job {p.JobId} was placed but was not pending");
                Assert.DoesNotContain(cycle.Preemptions, v => v.VictimJobId == p.JobId);
                // A gang is placed whole, never in part.
                Assert.Equal(spec.Spec.Gpus, p.Gpus.Sum(a => BitOperations.PopCount(a.Mask)));
                // Backfill never delays the reserved job: it starts no later than its first shadow time.
                if (policy.Name == "backfill" && firstShadow.TryGetValue(p.JobId, out var shadow))
                    Assert.True(now <= shadow, $"job {p.JobId} started at {now}, after its reservation's shadow time {shadow}");
                // A job that fits one node is on one node.
                if (spec.Spec.Gpus <= w.GpusPerNode) Assert.Single(p.Gpus);
                running[p.JobId] = spec.Spec.Gpus;
                startedAt[p.JobId] = now;
                ends.Enqueue((p.JobId, runs[p.JobId]), (now + p.StartDelaySeconds + Math.Min(spec.Runtime, spec.Spec.TimeLimitSeconds), p.JobId));
            }
            foreach (var v in cycle.Preemptions)
            {
                // An evicted job is queued again, and says why.
                Assert.Null(scheduler.Allocation(v.VictimJobId));
                var why = scheduler.Explain(v.VictimJobId);
                Assert.True(why is { Reason: PendingReason.Preempted }, $"job {v.VictimJobId} after its eviction: {why?.Reason.ToString() ?? "not pending"}");
                if (arrivals[(int)v.VictimJobId - 1].Spec.Gpus > fleet.NodeGpus(0)) Interlocked.Increment(ref _multiNodeEvictions);
            }
            if (cycle.Reservation is { } r) firstShadow.TryAdd(r.JobId, r.ShadowTime);
            CheckNoGpuHeldTwice(fleet, scheduler, running);
            Assert.True(pending.Count == scheduler.PendingCount, $"t={now}: {pending.Count} jobs are pending, the scheduler holds {scheduler.PendingCount}");
            Assert.True(running.Count == scheduler.RunningCount, $"t={now}: {running.Count} jobs are running, the scheduler holds {scheduler.RunningCount}");
        }
        Assert.Equal(accepted, finished.Count);
        Assert.Equal(0, scheduler.PendingCount);
    }

    private static void CheckNoGpuHeldTwice(Fleet fleet, FleetScheduler scheduler, Dictionary<long, int> running)
    {
        var seen = new ulong[fleet.NodeCount];
        var busy = 0;
        foreach (var (id, gpus) in running)
        {
            var alloc = scheduler.Allocation(id)!;
            Assert.Equal(gpus, alloc.Sum(a => a.Count));
            foreach (var a in alloc)
            {
                Assert.True((seen[a.Node] & a.Mask) == 0, $"a GPU of node {a.Node} is held by two jobs");
                Assert.True(a.Mask >> fleet.NodeGpus(a.Node) == 0, "allocation beyond the node's GPUs");
                seen[a.Node] |= a.Mask;
            }
            busy += gpus;
        }
        for (var n = 0; n < fleet.NodeCount; n++) Assert.Equal(seen[n], scheduler.NodeUsedMask(n));
        Assert.True(busy <= fleet.TotalGpus);
        Assert.Equal(busy, scheduler.BusyByPool.ToArray().Sum());
    }
}
