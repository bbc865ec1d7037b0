using CsCheck;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>
/// Fragmentation-aware packing keeps each candidate node's score until the node, the mix or the GPUs the node
/// may open change. Over random fleets (MIG or time-sharing, two node sizes, a power cap that may bind) and
/// random mixes of whole-GPU and slice jobs with CPU and memory, arriving and ending, a scheduler that keeps
/// its scores must decide exactly as one that works every score out afresh: a score kept past a change it
/// missed would send a job elsewhere.
/// </summary>
[Trait("Category", "Property")]
public sealed class KeptScoresPropertyTests
{
    private sealed record Job(int Kind, int Gpus, double Fraction, int Profile, int Cpus, int Memory, int Runtime, int Gap);

    private sealed record Workload(bool Mig, int BigNodes, int SmallNodes, bool PowerCapped, Job[] Jobs)
    {
        public override string ToString() =>
            $"{(Mig ? "MIG" : "time-sharing")}, {BigNodes}×8 + {SmallNodes}×4 GPUs, {(PowerCapped ? "power-capped" : "no cap")}; jobs [{string.Join(", ", Jobs.Select(j => j.ToString()))}]";
    }

    private static readonly Gen<Workload> Workloads =
        from mig in Gen.Bool
        from big in Gen.Int[1, 3]
        from small in Gen.Int[0, 3]
        from capped in Gen.Bool
        // Two arrivals in three come with the one before (bursts place many jobs in one cycle, each scored
        // against nodes the last one changed). Half the jobs ask for no CPU or memory: their slices change a node through its shared GPUs alone.
        from jobs in Gen.Select(Gen.Int[0, 3], Gen.Int[1, 4], Gen.Double[0.1, 0.9], Gen.Int[0, SlicedGpu.Profiles.Length - 1], Gen.Int[0, 6], Gen.Int[0, 48],
                Gen.Select(Gen.Int[1, 400], Gen.Int[-60, 30].Select(g => Math.Max(0, g)), Gen.Bool))
            .Select(t => new Job(t.Item1, t.Item2, Math.Round(t.Item3, 2), t.Item4, t.Item7.Item3 ? 0 : t.Item5, t.Item7.Item3 ? 0 : t.Item6, t.Item7.Item1, t.Item7.Item2))
            .Array[10, 150]
        select new Workload(mig, big, small, capped, jobs);

    [Fact]
    public void Kept_scores_decide_as_scores_worked_out_afresh() =>
        Workloads.Sample(w => Assert.Equal(Decide(w, keep: false), Decide(w, keep: true)), iter: 300, print: w => w.ToString());

    // Every cycle's placements (job, GPUs, slices and start delay) as text, in order.
    private static List<string> Decide(Workload w, bool keep)
    {
        var model = SlicedGpu.Model(w.Mig);
        // A cap of about twelve busy GPUs where capped: GPUs a node could open are then bounded by the site.
        var site = new Site("s", "o", "r", w.PowerCapped ? 0.0105 : 100, 1.2);
        var pools = new List<GpuPoolSpec> { new("s", "G", 8, 1, w.BigNodes, 0) { CpusPerNode = 32, MemoryGbPerNode = 256 } };
        if (w.SmallNodes > 0) pools.Add(new GpuPoolSpec("s", "G", 4, 1, w.SmallNodes, 0) { CpusPerNode = 16, MemoryGbPerNode = 128, NodeNames = "small-{01}" });
        var fleet = new Fleet("p", [model], [site], pools);
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.EasyBackfill, Tenants = TenantTree.Empty, SlicePacking = SlicePacking.FragmentationAware });
        scheduler.SliceAllocator.KeepsScores = keep;
        var arrivals = new List<(JobSpec Spec, int Runtime)>();
        long t = 0;
        for (var i = 0; i < w.Jobs.Length; i++)
        {
            var j = w.Jobs[i];
            t += j.Gap;
            var slice = SlicedGpu.Request(j.Kind, j.Fraction, j.Profile, w.Mig);
            var gpus = slice is null ? j.Gpus : Math.Min(j.Gpus, 2);
            arrivals.Add((new JobSpec(i + 1, "t", gpus, [], TopologyNeed.Site, 10_000, 0, t) { Slice = slice, CpusPerGpu = j.Cpus, MemoryGbPerGpu = j.Memory }, j.Runtime));
        }
        var runtimes = arrivals.ToDictionary(a => a.Spec.Id, a => a.Runtime);
        var ends = new PriorityQueue<long, (long, long)>();
        var decisions = new List<string>();
        var next = 0;
        while (next < arrivals.Count || ends.Count > 0)
        {
            var now = next < arrivals.Count ? arrivals[next].Spec.SubmitTime : long.MaxValue;
            if (ends.TryPeek(out _, out var e) && e.Item1 < now) now = e.Item1;
            while (ends.TryPeek(out var id, out var at) && at.Item1 == now)
            {
                ends.Dequeue();
                scheduler.End(id, now);
            }
            while (next < arrivals.Count && arrivals[next].Spec.SubmitTime == now) scheduler.Submit(arrivals[next++].Spec);
            foreach (var p in scheduler.RunCycle(now).Placements)
            {
                decisions.Add(Describe(now, p));
                ends.Enqueue(p.JobId, (now + p.StartDelaySeconds + runtimes[p.JobId], p.JobId));
            }
        }
        return decisions;
    }

    private static string Describe(long now, PlacementDecision p) =>
        $"t{now} job {p.JobId}: {string.Join(" ", p.Gpus.Select(a => $"{a.Node}:{a.Mask:x}"))}"
        + $" [{string.Join(" ", (p.Slices ?? []).Select(s => $"{s.Node}/{s.Gpu}/{s.MigProfile}@{s.MigStart}/{s.Fraction}"))}] +{p.StartDelaySeconds}s";
}
