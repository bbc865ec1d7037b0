using System.Numerics;
using CsCheck;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>Invariants over random fleets and workloads, checked after every cycle of a small event loop.</summary>
[Trait("Category", "Property")]
public sealed class SchedulerPropertyTests
{
    private sealed record Workload(int GpusPerNode, int NodesPerDomain, int Domains, (int Gpus, int Runtime, int Limit, int Gap, int Tenant, bool Node)[] Jobs);

    private static readonly Gen<Workload> Workloads =
        from gpn in Gen.Int[0, 3].Select(i => 1 << i)
        from npd in Gen.Int[1, 4]
        from domains in Gen.Int[1, 4]
        from jobs in Gen.Select(Gen.Int[1, gpn * npd * domains], Gen.Int[1, 400], Gen.Int[0, 400], Gen.Int[0, 50], Gen.Int[0, 3], Gen.Bool)
            .Array[1, 60]
        select new Workload(gpn, npd, domains, [.. jobs.Select(j => (j.Item1, j.Item2, j.Item2 + j.Item3, j.Item4, j.Item5, j.Item6))]);

    [Theory]
    [InlineData("fifo")]
    [InlineData("backfill")]
    [InlineData("fairshare")]
    public void Invariants_hold_on_random_workloads(string policyName)
    {
        var policy = SchedulingPolicy.Find(policyName)!;
        Workloads.Sample(w => Replay(w, policy), iter: 300);
    }

    private static void Replay(Workload w, SchedulingPolicy policy)
    {
        var fleet = new Fleet("p", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)],
            [new GpuPoolSpec("s", "G", w.GpusPerNode, w.NodesPerDomain, w.Domains, 0)]);
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = policy });
        var arrivals = new List<(long At, JobSpec Spec, long Runtime)>();
        long t = 0;
        for (var i = 0; i < w.Jobs.Length; i++)
        {
            var j = w.Jobs[i];
            t += j.Gap;
            var need = j.Node ? TopologyNeed.Node : TopologyNeed.Site;
            arrivals.Add((t, new JobSpec(i + 1, $"t{j.Tenant}", j.Gpus, [], need, j.Limit, 0, t), j.Runtime));
        }
        var ends = new PriorityQueue<long, (long, long)>();
        var running = new Dictionary<long, int>();
        var firstShadow = new Dictionary<long, long>();
        var next = 0;
        var accepted = 0;
        var started = 0;
        while (next < arrivals.Count || ends.Count > 0)
        {
            var now = next < arrivals.Count ? arrivals[next].At : long.MaxValue;
            if (ends.TryPeek(out _, out var e) && e.Item1 < now) now = e.Item1;
            while (ends.TryPeek(out var id, out var at) && at.Item1 == now)
            {
                ends.Dequeue();
                Assert.True(scheduler.End(id, now));
                running.Remove(id);
            }
            while (next < arrivals.Count && arrivals[next].At == now)
            {
                var a = arrivals[next++];
                if (scheduler.Submit(a.Spec).Accepted) accepted++;
                else Assert.True(a.Spec.Topology == TopologyNeed.Node && a.Spec.Gpus > w.GpusPerNode, "only node-bound jobs larger than a node may be refused");
            }
            var cycle = scheduler.RunCycle(now);
            foreach (var p in cycle.Placements)
            {
                var spec = arrivals[(int)p.JobId - 1];
                // A gang is placed whole, never in part.
                Assert.Equal(spec.Spec.Gpus, p.Gpus.Sum(a => BitOperations.PopCount(a.Mask)));
                // Backfill never delays the reserved job: it starts no later than its first shadow time.
                if (policy.Name == "backfill" && firstShadow.TryGetValue(p.JobId, out var shadow))
                    Assert.True(now <= shadow, $"job {p.JobId} started at {now}, after its reservation's shadow time {shadow}");
                // A job that fits one node is on one node.
                if (spec.Spec.Gpus <= w.GpusPerNode) Assert.Single(p.Gpus);
                running[p.JobId] = spec.Spec.Gpus;
                ends.Enqueue(p.JobId, (now + Math.Min(spec.Runtime, spec.Spec.TimeLimitSeconds), p.JobId));
                started++;
            }
            if (cycle.Reservation is { } r) firstShadow.TryAdd(r.JobId, r.ShadowTime);
            CheckNoGpuHeldTwice(fleet, scheduler, running);
        }
        Assert.Equal(accepted, started);
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
