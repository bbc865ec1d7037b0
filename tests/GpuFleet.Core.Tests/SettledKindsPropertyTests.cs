using CsCheck;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Tests;

/// <summary>
/// The fair-share walk sets a tenant's settled kinds of job aside instead of visiting each of their jobs, and
/// brings them back, past the jobs it passed, after an eviction or between the tenant's turns. Over random
/// tenant trees (guarantees, borrowing limits), the built-in priority classes, time limits that make some jobs
/// short enough to backfill and bursts of arrivals, under the shared policy with its reclaim and preemption,
/// a walk that sets kinds aside must decide exactly as one that visits every job: the same placements in the
/// same order, the same evictions, and the same time each preemptor first waited (reclaim latency counts
/// from it).
/// </summary>
[Trait("Category", "Property")]
public sealed class SettledKindsPropertyTests
{
    private static readonly int[] Sizes = [1, 1, 2, 4, 8, 8, 16];
    private static readonly string[] Classes = ["production", "normal", "normal", "preemptible", "best-effort"];

    private sealed record Job(int Size, int Runtime, int LimitFactor, int Gap, int Leaf, int Class);

    private sealed record Case(int Nodes, int[][] Guarantees, int?[] BorrowLimits, Job[] Jobs)
    {
        public override string ToString() =>
            $"{Nodes} nodes, guarantees [{string.Join("; ", Guarantees.Select(o => string.Join(",", o)))}], limits [{string.Join(",", BorrowLimits)}], " +
            $"jobs [{string.Join(", ", Jobs.Select(j => $"{Sizes[j.Size]}g {j.Runtime}s ×{j.LimitFactor} +{j.Gap} leaf{j.Leaf} {Classes[j.Class]}"))}]";
    }

    private static readonly Gen<Case> Cases =
        from nodes in Gen.Int[2, 5]
        from guarantees in Gen.Int[0, 12].Array[1, 3].Array[2, 3]
        from limits in Gen.Int[0, 30].Select(l => l > 20 ? (int?)null : l).Array[3]
        // Two arrivals in three come with the one before: bursts queue many jobs of few kinds.
        from jobs in Gen.Select(Gen.Int[0, Sizes.Length - 1], Gen.Int[60, 3000], Gen.Int[1, 4], Gen.Int[-120, 60].Select(g => Math.Max(0, g)),
            Gen.Int[0, 8], Gen.Int[0, Classes.Length - 1], (size, runtime, factor, gap, leaf, cls) => new Job(size, runtime, factor, gap, leaf, cls)).Array[10, 120]
        select new Case(nodes, guarantees, limits, jobs);

    [Fact]
    public void Setting_settled_kinds_aside_decides_as_visiting_every_job() =>
        Cases.Sample(c => Assert.Equal(Decide(c, setAside: false), Decide(c, setAside: true)), iter: 300, print: c => c.ToString());

    private static List<string> Decide(Case c, bool setAside)
    {
        var fleet = new Fleet("p", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 100, 1.0)], [new GpuPoolSpec("s", "G", 8, 1, c.Nodes, 0)]);
        var specs = new List<TenantSpec>();
        var leaves = new List<string>();
        // Guarantees scaled down to fit the fleet.
        var fleetGpus = c.Nodes * 8;
        var total = Math.Max(fleetGpus, c.Guarantees.Sum(o => o.Sum()));
        for (var o = 0; o < c.Guarantees.Length; o++)
        {
            specs.Add(new TenantSpec($"o{o}", null, new Dictionary<string, int>(), BorrowLimitGpus: c.BorrowLimits[o]));
            foreach (var g in c.Guarantees[o])
            {
                var name = $"p{leaves.Count}";
                specs.Add(new TenantSpec(name, $"o{o}", new Dictionary<string, int> { ["G"] = g * fleetGpus / total }));
                leaves.Add(name);
            }
        }
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = new TenantTree(specs) });
        ((FairShareWalk)scheduler.PendingWalk).SetsAside = setAside;
        var decisions = new List<string>();
        var ends = new PriorityQueue<(long Id, int Run), long>();
        var runs = new Dictionary<long, int>();
        long t = 0;
        var next = 0;
        while (next < c.Jobs.Length || ends.Count > 0)
        {
            var now = next < c.Jobs.Length ? t + c.Jobs[next].Gap : long.MaxValue;
            if (ends.TryPeek(out _, out var e) && e < now) now = e;
            while (ends.TryPeek(out var end, out var at) && at == now)
            {
                ends.Dequeue();
                if (runs[end.Id] == end.Run) scheduler.End(end.Id, now);
            }
            while (next < c.Jobs.Length && t + c.Jobs[next].Gap == now)
            {
                var j = c.Jobs[next++];
                t = now;
                runs[next] = 0;
                scheduler.Submit(JobBuilder.Job(next).Tenant(leaves[j.Leaf % leaves.Count]).Gpus(Sizes[j.Size]).Limit(j.Runtime * j.LimitFactor).At(now)
                    .Class(Classes[j.Class]).Build());
            }
            var cycle = scheduler.RunCycle(now);
            foreach (var p in cycle.Preemptions)
            {
                decisions.Add($"t{now} evict {p.VictimJobId} for {p.PreemptorJobId} ({p.Kind}, waited from {p.RequestedAt})");
                runs[p.VictimJobId]++;
            }
            foreach (var p in cycle.Placements)
            {
                decisions.Add($"t{now} place {p.JobId} on {string.Join(" ", p.Gpus.Select(a => $"{a.Node}:{a.Mask:x}"))} +{p.StartDelaySeconds}s");
                ends.Enqueue((p.JobId, runs[p.JobId]), now + p.StartDelaySeconds + c.Jobs[p.JobId - 1].Runtime);
            }
        }
        return decisions;
    }
}
