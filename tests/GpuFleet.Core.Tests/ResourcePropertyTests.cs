using System.Numerics;
using CsCheck;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>
/// Invariants of CPU, memory and GPU slices over random fleets (nodes of two sizes, MIG or time-sharing) and
/// random mixes of whole-GPU and slice jobs, checked after every cycle of a small event loop: no GPU's slices
/// pass its compute or memory and MIG instances never overlap; no node's CPU or memory is passed; no whole-GPU
/// job shares a GPU; and what tenants are charged equals each job's GPU-equivalents × the time it held them.
/// </summary>
[Trait("Category", "Property")]
public sealed class ResourcePropertyTests
{
    private sealed record Job(int Kind, int Gpus, double Fraction, int Profile, double Cpus, double Memory, int Runtime, int Gap, int Tenant);

    private sealed record Workload(bool Mig, int BigNodes, int SmallNodes, int Cpus, int MemoryGb, SlicePacking Packing, Job[] Jobs)
    {
        public override string ToString() =>
            $"{(Mig ? "MIG" : "time-sharing")}, {BigNodes}×8 + {SmallNodes}×2 GPUs, {Cpus} cores, {MemoryGb} GB, {Packing}; jobs [{string.Join(", ", Jobs.Select(j => j.ToString()))}]";
    }

    private static readonly Gen<Workload> Workloads =
        from mig in Gen.Bool
        from big in Gen.Int[0, 2]
        from small in Gen.Int[1, 3]
        from cpus in Gen.Int[8, 64]
        from memory in Gen.Int[64, 512]
        from packing in Gen.Enum<SlicePacking>()
        from jobs in Gen.Select(Gen.Int[0, 2], Gen.Int[1, 4], Gen.Double[0.05, 0.95], Gen.Int[0, SlicedGpu.Profiles.Length - 1], Gen.Int[0, 8], Gen.Int[0, 64],
                Gen.Select(Gen.Int[1, 300], Gen.Int[0, 40], Gen.Int[0, 2]))
            .Select(t => new Job(t.Item1, t.Item2, Math.Round(t.Item3, 2), t.Item4, t.Item5, t.Item6, t.Item7.Item1, t.Item7.Item2, t.Item7.Item3))
            .Array[1, 50]
        select new Workload(mig, big, small, cpus, memory, packing, jobs);

    [Fact]
    public void Slices_cpu_and_memory_are_never_overcommitted_and_charged_as_held() =>
        Workloads.Sample(Replay, iter: 400, print: w => w.ToString());

    private static void Replay(Workload w)
    {
        var model = SlicedGpu.Model(w.Mig);
        var pools = new List<GpuPoolSpec>();
        if (w.BigNodes > 0) pools.Add(new GpuPoolSpec("s", "G", 8, 1, w.BigNodes, 0) { CpusPerNode = w.Cpus, MemoryGbPerNode = w.MemoryGb });
        pools.Add(new GpuPoolSpec("s", "G", 2, 1, w.SmallNodes, 0) { CpusPerNode = w.Cpus, MemoryGbPerNode = w.MemoryGb, NodeNames = "small-{01}" });
        var fleet = new Fleet("p", [model], [new Site("s", "o", "r", 100, 1.2)], pools);
        // Grants large enough never to run out: what they are charged is the GPU-equivalent time of the tenant's jobs.
        var tree = new TenantTree([.. Enumerable.Range(0, 3).Select(i => new TenantSpec($"t{i}", null, new Dictionary<string, int>(), Grants: [new Grant("g", 1e9, 0, long.MaxValue)]))], []);
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.EasyBackfill, Tenants = tree, SlicePacking = w.Packing });
        var specs = new Dictionary<long, JobSpec>();
        var runtimes = new Dictionary<long, int>();
        long t = 0;
        var arrivals = new List<JobSpec>();
        for (var i = 0; i < w.Jobs.Length; i++)
        {
            var j = w.Jobs[i];
            t += j.Gap;
            var slice = SlicedGpu.Request(j.Kind, j.Fraction, j.Profile, w.Mig);
            var gpus = slice is null ? j.Gpus : Math.Min(j.Gpus, 3);
            var spec = new JobSpec(i + 1, $"t{j.Tenant}", gpus, [], TopologyNeed.Site, 10_000, 0, t) { Slice = slice, CpusPerGpu = j.Cpus, MemoryGbPerGpu = j.Memory };
            arrivals.Add(spec);
            specs[spec.Id] = spec;
            runtimes[spec.Id] = j.Runtime;
        }
        var ends = new PriorityQueue<long, (long, long)>();
        var placements = new Dictionary<long, (PlacementDecision Decision, long At)>();
        var charged = new double[3];
        var next = 0;
        while (next < arrivals.Count || ends.Count > 0)
        {
            var now = next < arrivals.Count ? arrivals[next].SubmitTime : long.MaxValue;
            if (ends.TryPeek(out _, out var e) && e.Item1 < now) now = e.Item1;
            while (ends.TryPeek(out var id, out var at) && at.Item1 == now)
            {
                ends.Dequeue();
                Assert.True(scheduler.End(id, now));
                var (decision, placedAt) = placements[id];
                charged[int.Parse(specs[id].Tenant[1..])] += decision.GpuEquivalents * (now - placedAt);
                placements.Remove(id);
            }
            while (next < arrivals.Count && arrivals[next].SubmitTime == now) scheduler.Submit(arrivals[next++]);
            var cycle = scheduler.RunCycle(now);
            Assert.Empty(cycle.Preemptions);
            foreach (var p in cycle.Placements)
            {
                placements[p.JobId] = (p, now);
                ends.Enqueue(p.JobId, (now + p.StartDelaySeconds + runtimes[p.JobId], p.JobId));
                var spec = specs[p.JobId];
                Assert.Equal(spec.Gpus, spec.Slice is null ? p.Gpus.Sum(a => a.Count) : p.Slices!.Count);
            }
            Check(fleet, scheduler, specs, placements);
        }
        // The grants were charged the GPU-equivalents each job held, for as long as it held them (to the second).
        for (var tenant = 0; tenant < 3; tenant++)
        {
            var used = scheduler.Tenants.GrantUse(tenant).Sum(g => g.UsedGpuHours) * 3600;
            Assert.True(Math.Abs(used - charged[tenant]) < 1e-6 * Math.Max(1, charged[tenant]), $"tenant t{tenant} charged {used} GPU-s, its jobs held {charged[tenant]}");
        }
    }

    private static void Check(Fleet fleet, FleetScheduler scheduler, Dictionary<long, JobSpec> specs, Dictionary<long, (PlacementDecision Decision, long At)> running)
    {
        var cpu = new long[fleet.NodeCount];
        var memory = new long[fleet.NodeCount];
        var whole = new ulong[fleet.NodeCount];
        var compute = new Dictionary<(int, int), double>();
        var gpuMemory = new Dictionary<(int, int), double>();
        var instances = new Dictionary<(int, int), List<MigInstance>>();
        foreach (var (id, (decision, _)) in running)
        {
            var spec = specs[id];
            if (decision.Slices is { } slices)
            {
                foreach (var s in slices)
                {
                    compute[(s.Node, s.Gpu)] = compute.GetValueOrDefault((s.Node, s.Gpu)) + s.Fraction;
                    gpuMemory[(s.Node, s.Gpu)] = gpuMemory.GetValueOrDefault((s.Node, s.Gpu)) + s.MemoryGb;
                    if (s.MigProfile is not null)
                    {
                        if (!instances.TryGetValue((s.Node, s.Gpu), out var list)) instances[(s.Node, s.Gpu)] = list = [];
                        list.Add(new MigInstance(s.MigProfile, s.MigStart));
                    }
                    // A time-shared slice holds at least the memory it asked for.
                    if (spec.Slice!.MigProfile is null && s.MigProfile is null) Assert.True(s.MemoryGb >= spec.Slice.GpuMemoryGb - 1e-9);
                }
                Assert.Single(slices.Select(s => s.Node).Distinct());
                Account(slices[0].Node, slices.Count);
            }
            else
            {
                foreach (var a in decision.Gpus)
                {
                    Assert.True((whole[a.Node] & a.Mask) == 0, $"two whole-GPU jobs hold a GPU of node {a.Node}");
                    whole[a.Node] |= a.Mask;
                    Account(a.Node, a.Count);
                }
            }

            void Account(int node, int count)
            {
                if (spec.CpusPerGpu > 0) cpu[node] += (long)Math.Ceiling(count * spec.CpusPerGpu * 1000 - 1e-6);
                if (spec.MemoryGbPerGpu > 0) memory[node] += (long)Math.Ceiling(count * spec.MemoryGbPerGpu * 1000 - 1e-6);
            }
        }
        for (var n = 0; n < fleet.NodeCount; n++)
        {
            Assert.True(cpu[n] <= fleet.NodeCpus(n) * 1000L, $"node {n}: {cpu[n] / 1000.0} cores taken of {fleet.NodeCpus(n)}");
            Assert.True(memory[n] <= fleet.NodeMemoryGb(n) * 1000L, $"node {n}: {memory[n] / 1000.0} GB taken of {fleet.NodeMemoryGb(n)}");
        }
        foreach (var ((node, gpu), sum) in compute)
        {
            Assert.True(sum <= 1 + 1e-9, $"node {node} GPU {gpu}: slices hold {sum} of its compute");
            Assert.True(gpuMemory[(node, gpu)] <= 80 + 1e-9, $"node {node} GPU {gpu}: slices hold {gpuMemory[(node, gpu)]} GB of 80");
            Assert.True((whole[node] & (1UL << gpu)) == 0, $"node {node} GPU {gpu} runs slices and a whole-GPU job");
            if (instances.TryGetValue((node, gpu), out var list))
                Assert.Null(fleet.Models[0].Sharing!.LayoutProblem(list));
        }
    }
}
