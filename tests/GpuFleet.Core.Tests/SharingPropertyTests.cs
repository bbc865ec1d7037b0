using CsCheck;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>
/// Invariants of guarantees, lending and reclaim over random tenant trees and workloads under the
/// shared policy, checked after every cycle: borrowing limits hold, only tenants above their guarantee
/// lose jobs to reclaim, nobody is evicted before its minimum runtime, and no site exceeds its power cap.
/// </summary>
[Trait("Category", "Property")]
public sealed class SharingPropertyTests
{
    private sealed record Case(int Nodes, int[] Guarantees, int?[] BorrowLimits, double CapShare, (int Gpus, int Runtime, int Gap, int Tenant)[] Jobs);

    private static readonly Gen<Case> Cases =
        from nodes in Gen.Int[1, 4]
        from guarantees in Gen.Int[0, 8].Array[3]
        from limits in Gen.Int[0, 12].Select(x => x >= 10 ? (int?)null : x).Array[3]
        from cap in Gen.Double[0.3, 1.2]
        from jobs in Gen.Select(Gen.Int[1, 8], Gen.Int[1, 3000], Gen.Int[0, 400], Gen.Int[0, 2]).Array[1, 50]
        select new Case(nodes, guarantees, limits, cap, jobs);

    [Fact]
    public void Lending_and_reclaim_keep_their_promises()
    {
        Cases.Sample(Replay, iter: 300);
    }

    private static void Replay(Case c)
    {
        // Power: idle 8·nodes × 100 W, each busy GPU +600 W, PUE 1; the cap allows a random share of full load.
        var full = c.Nodes * 8 * 700.0;
        var fleet = new Fleet("p", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", full * c.CapShare / 1e6, 1.0)],
            [new GpuPoolSpec("s", "G", 8, 1, c.Nodes, 0)]);
        // Guarantees are scaled to fit the fleet.
        var total = Math.Max(1, c.Guarantees.Sum());
        var g = c.Guarantees.Select(x => x * c.Nodes * 8 / Math.Max(total, c.Nodes * 8)).ToArray();
        var tree = new TenantTree([.. Enumerable.Range(0, 3).Select(i =>
            new TenantSpec($"t{i}", null, new Dictionary<string, int> { ["G"] = g[i] }, BorrowLimitGpus: c.BorrowLimits[i]))]);
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree });

        var ends = new PriorityQueue<(long Id, int Version), long>();
        var version = new Dictionary<long, int>();
        var started = new Dictionary<long, long>();
        var tenantOf = new Dictionary<long, int>();
        var gpusOf = new Dictionary<long, int>();
        var runtime = new Dictionary<long, int>();
        long t = 0;
        var next = 0;
        while (next < c.Jobs.Length || ends.Count > 0)
        {
            var now = next < c.Jobs.Length ? t + c.Jobs[next].Gap : long.MaxValue;
            if (ends.TryPeek(out _, out var e) && e < now) now = e;
            while (ends.TryPeek(out var ev, out var at) && at == now)
            {
                ends.Dequeue();
                if (version[ev.Id] != ev.Version) continue;
                Assert.True(scheduler.End(ev.Id, now));
                started.Remove(ev.Id);
            }
            if (next < c.Jobs.Length && t + c.Jobs[next].Gap == now)
            {
                var j = c.Jobs[next++];
                t = now;
                var id = (long)next;
                tenantOf[id] = j.Tenant;
                gpusOf[id] = j.Gpus;
                runtime[id] = j.Runtime;
                version[id] = 0;
                var result = scheduler.Submit(new JobSpec(id, $"t{j.Tenant}", j.Gpus, [], TopologyNeed.Site, j.Runtime, 0, now));
                // Refused only when it could never run: beyond guarantee plus borrowing limit, or beyond the power cap.
                if (!result.Accepted)
                    Assert.True(j.Gpus > g[j.Tenant] + (c.BorrowLimits[j.Tenant] ?? int.MaxValue - 8) || result.Error!.Contains("power caps"), result.Error);
            }
            var usePre = Enumerable.Range(0, 3).Select(i => scheduler.TenantUse(i, 0)).ToArray();
            var cycle = scheduler.RunCycle(now);
            var placedBy = new int[3];
            foreach (var p in cycle.Placements) placedBy[tenantOf[p.JobId]] += gpusOf[p.JobId];
            foreach (var p in cycle.Preemptions)
            {
                var victimTenant = tenantOf[p.VictimJobId];
                Assert.Equal(PreemptionKind.Reclaim, p.Kind);
                // The victim's tenant ran above its guarantee at some point of this cycle.
                Assert.True(usePre[victimTenant] + placedBy[victimTenant] > g[victimTenant],
                    $"t{victimTenant} (use {usePre[victimTenant]}, guarantee {g[victimTenant]}) lost job {p.VictimJobId} to a reclaim");
                // The preemptor was within its own guarantee.
                var preemptorTenant = tenantOf[p.PreemptorJobId];
                Assert.True(gpusOf[p.PreemptorJobId] <= g[preemptorTenant], "a borrower reclaimed");
                Assert.True(now - started[p.VictimJobId] >= PriorityClass.Normal.MinRuntimeSeconds, $"job {p.VictimJobId} evicted before its minimum runtime");
                version[p.VictimJobId]++;
                started.Remove(p.VictimJobId);
            }
            foreach (var p in cycle.Placements)
            {
                started[p.JobId] = now;
                ends.Enqueue((p.JobId, version[p.JobId]), now + p.StartDelaySeconds + runtime[p.JobId]);
            }
            for (var i = 0; i < 3; i++)
                if (c.BorrowLimits[i] is { } limit)
                    Assert.True(scheduler.TenantUse(i, 0) - g[i] <= limit, $"t{i} borrows {scheduler.TenantUse(i, 0) - g[i]} GPUs, limit {limit}");
            Assert.True(fleet.SitePowerWatts(0, scheduler.BusyByPool) <= fleet.Sites[0].PowerCapMw * 1e6 + 1e-6, "site above its power cap");
        }
        Assert.Equal(0, scheduler.PendingCount + scheduler.RunningCount);
    }
}
