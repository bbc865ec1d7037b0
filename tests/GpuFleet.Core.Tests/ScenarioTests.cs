using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>Runs every <c>Scenarios/*.yaml</c> against the real scheduler.</summary>
[Trait("Category", "Scenario")]
public sealed class ScenarioTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Scenarios"), "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Scenario_holds(string file)
    {
        var scenario = Scenario.Load(Path.Combine(AppContext.BaseDirectory, "Scenarios", file));
        Assert.NotEmpty(scenario.Steps);
        var fleet = BuildFleet(scenario);
        var policy = SchedulingPolicy.Find(scenario.Policy) ?? throw new InvalidOperationException($"unknown policy {scenario.Policy}");
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions
        {
            Policy = policy,
            Tenants = BuildTree(scenario),
            FairShareHalfLifeSeconds = scenario.HalfLifeSeconds,
            LargeGangGpus = scenario.LargeGangGpus,
            LargeGangReserveAfterSeconds = scenario.LargeGangReserveAfterSeconds,
            SlicePacking = Enum.Parse<SlicePacking>(scenario.Packing, ignoreCase: true),
        });
        foreach (var layout in scenario.Layouts)
        {
            var sharing = fleet.Models[fleet.ModelIndex(layout.Model)].Sharing ?? throw new InvalidOperationException($"model {layout.Model} has no sharing");
            var arranged = sharing.Arrange(layout.Profiles, out var problem);
            var text = string.Join(" + ", layout.Profiles);
            if (layout.Allowed)
            {
                Assert.True(arranged is not null, $"{scenario.Name}: layout {text} should be allowed: {problem}");
                Assert.Null(sharing.LayoutProblem(arranged));
            }
            else
            {
                Assert.True(arranged is null, $"{scenario.Name}: layout {text} should not be allowed");
                Assert.Contains(layout.Problem ?? "", problem);
            }
        }
        var services = scenario.Services.Count == 0 ? null : new ServiceFleet(scheduler, [.. scenario.Services.Select(d =>
            new ServiceSpec(d.Name, d.Tenant, d.GpusPerReplica, d.MinReplicas, d.MaxReplicas, d.RequestsPerSecondPerReplica, d.TargetUtilization)
            {
                PriorityClass = d.Class, Models = d.Models, Region = d.Region, LatencyBudgetMs = d.LatencyBudgetMs, StandbyReplicas = d.StandbyReplicas,
            })]);
        // The GPUs each running job holds, as the placements returned them: ends and evictions give them back.
        var held = new Dictionary<long, GpuAllocation[]>();
        foreach (var step in scenario.Steps)
        {
            var where = $"{scenario.Name} at t={step.At}";
            foreach (var id in step.End)
            {
                Assert.True(scheduler.End(id, step.At), $"{where}: job {id} was not held");
                held.Remove(id);
            }
            foreach (var id in step.Requeue)
            {
                Assert.True(scheduler.Requeue(id, step.At), $"{where}: job {id} was not running");
                held.Remove(id);
            }
            foreach (var (node, count) in step.OutOfService) scheduler.SetOutOfService(node, count);
            foreach (var j in step.Submit)
            {
                var need = Enum.Parse<TopologyNeed>(j.Topology, ignoreCase: true);
                var result = scheduler.Submit(new JobSpec(j.Id, j.Tenant, j.Gpus, j.Models, need, j.Limit, j.Priority, step.At)
                {
                    PriorityClass = j.Class, Site = j.Site, DataSite = j.DataSite, DataGb = j.DataGb, CheckpointIntervalSeconds = j.Checkpoint,
                    CpusPerGpu = j.CpusPerGpu, MemoryGbPerGpu = j.MemoryGbPerGpu,
                    Slice = j.Mig is not null ? new SliceRequest(j.Mig, 0, 0) : j.Fraction > 0 ? new SliceRequest(null, j.Fraction, j.GpuMemoryGb) : null,
                });
                if (step.Rejected.TryGetValue(j.Id, out var fragment))
                {
                    Assert.False(result.Accepted, $"{where}: job {j.Id} should be rejected");
                    Assert.Contains(fragment, result.Error);
                }
                else
                {
                    Assert.True(result.Accepted, $"{where}: job {j.Id} rejected: {result.Error}");
                }
            }
            foreach (var (name, rate) in step.Load)
            {
                if (services is null) throw new InvalidOperationException($"{where}: load for '{name}', but the scenario has no services");
                var index = services.IndexOf(name);
                Assert.True(index >= 0, $"{where}: no service '{name}'");
                foreach (var change in services.Scale(index, rate, step.At))
                {
                    Assert.True(change.Kind != ReplicaChangeKind.Rejected, $"{where}: a replica of '{name}' was refused: {change.Error}");
                    if (change.Kind == ReplicaChangeKind.Ended) held.Remove(change.JobId);
                }
            }
            var cycle = scheduler.RunCycle(step.At);
            services?.Observe(cycle);
            // Replicas are checked by service (Replicas below): their ids are not the scenario's to write.
            var placed = cycle.Placements.Select(p => p.JobId).Where(id => !ServiceFleet.IsReplicaId(id)).Order().ToList();
            if (step.Placed is not null) Assert.True(step.Placed.Order().SequenceEqual(placed), $"{where}: placed [{string.Join(",", placed)}], expected [{string.Join(",", step.Placed)}]");
            foreach (var (id, reason) in step.Pending)
            {
                var why = scheduler.Explain(id);
                Assert.True(why is not null, $"{where}: job {id} is not pending");
                Assert.True(Enum.Parse<PendingReason>(reason) == why.Reason, $"{where}: job {id} pending as {why.Reason} ({why.Message}), expected {reason}");
                Assert.False(string.IsNullOrWhiteSpace(why.Message));
            }
            foreach (var (id, count) in step.Nodes)
                Assert.True(count == Alloc(scheduler, id).Count, $"{where}: job {id} spans {Alloc(scheduler, id).Count} nodes, expected {count}");
            foreach (var (id, count) in step.Domains)
            {
                var domains = Alloc(scheduler, id).Select(a => fleet.NodeDomain(a.Node)).Distinct().Count();
                Assert.True(count == domains, $"{where}: job {id} spans {domains} domains, expected {count}");
            }
            foreach (var (id, nodes) in step.OnNodes)
            {
                var actual = Alloc(scheduler, id).Select(a => a.Node).Order().ToList();
                Assert.True(nodes.Order().SequenceEqual(actual), $"{where}: job {id} on nodes [{string.Join(",", actual)}], expected [{string.Join(",", nodes)}]");
            }
            var borrowed = cycle.Placements.Where(p => p.Borrowed && !ServiceFleet.IsReplicaId(p.JobId)).Select(p => p.JobId).Order().ToList();
            if (step.Borrowed is not null) Assert.True(step.Borrowed.Order().SequenceEqual(borrowed), $"{where}: borrowed [{string.Join(",", borrowed)}], expected [{string.Join(",", step.Borrowed)}]");
            // A step that names no preemptions expects none.
            var evicted = cycle.Preemptions.Select(p => p.VictimJobId).Order().ToList();
            var expectedEvicted = step.Preempted ?? [];
            Assert.True(expectedEvicted.Order().SequenceEqual(evicted), $"{where}: preempted [{string.Join(",", evicted)}], expected [{string.Join(",", expectedEvicted)}]");
            TrackHeldGpus(fleet, held, cycle, where, id => scheduler.Slices(id).Count > 0);
            CheckSlicesFit(fleet, scheduler, held, where);
            foreach (var (id, slices) in step.Slices)
            {
                var actual = scheduler.Slices(id).Select(s => $"{s.Node}/{s.Gpu}" + (s.MigProfile is null ? "" : $":{s.MigProfile}@{s.MigStart}")).Order().ToList();
                Assert.True(slices.Order().SequenceEqual(actual), $"{where}: job {id} has slices [{string.Join(", ", actual)}], expected [{string.Join(", ", slices)}]");
            }
            foreach (var (id, delay) in step.Delays)
            {
                var decision = cycle.Placements.SingleOrDefault(p => p.JobId == id) ?? throw new Xunit.Sdk.XunitException($"{where}: job {id} was not placed in this cycle");
                Assert.True(delay == decision.StartDelaySeconds, $"{where}: job {id} starts after {decision.StartDelaySeconds} s, expected {delay}");
            }
            if (step.SharedGpus is { } sharedGpus) Assert.True(sharedGpus == scheduler.SharedGpuCount, $"{where}: {scheduler.SharedGpuCount} GPUs run slices, expected {sharedGpus}");
            foreach (var id in step.Running) Assert.True(scheduler.Allocation(id) is not null, $"{where}: job {id} should be running");
            foreach (var (id, site) in step.OnSites)
            {
                var sites = Alloc(scheduler, id).Select(a => fleet.Sites[fleet.PoolSite(fleet.NodePool(a.Node))].Name).Distinct().ToList();
                Assert.True(sites.SequenceEqual([site]), $"{where}: job {id} at [{string.Join(",", sites)}], expected {site}");
            }
            foreach (var (id, at) in step.Estimates)
            {
                var why = scheduler.Explain(id) ?? throw new Xunit.Sdk.XunitException($"{where}: job {id} is not pending");
                Assert.True(why.EstimatedStart == at, $"{where}: job {id} estimated at {why.EstimatedStart}, expected {at} ({why.Message})");
            }
            foreach (var (name, expected) in step.Replicas)
            {
                var index = services?.IndexOf(name) ?? -1;
                Assert.True(index >= 0, $"{where}: no service '{name}'");
                if (expected.Desired is { } desired) Assert.True(desired == services!.Desired(index), $"{where}: '{name}' wants {services.Desired(index)} replicas, expected {desired}");
                if (expected.Placed is { } placedReplicas) Assert.True(placedReplicas == services!.Placed(index), $"{where}: '{name}' has {services.Placed(index)} replicas placed, expected {placedReplicas}");
                if (expected.Pending is { } pendingReplicas) Assert.True(pendingReplicas == services!.Pending(index), $"{where}: '{name}' has {services.Pending(index)} replicas waiting, expected {pendingReplicas}");
                if (expected.Sites is { } bySite)
                {
                    var actual = services!.PlacedReplicas().Where(id => services.ServiceOf(id) == index)
                        .GroupBy(id => fleet.Sites[services.SiteOf(id)].Name).ToDictionary(g => g.Key, g => g.Count());
                    var text = string.Join(", ", actual.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));
                    Assert.True(bySite.Count == actual.Count && bySite.All(kv => actual.GetValueOrDefault(kv.Key) == kv.Value),
                        $"{where}: '{name}' has replicas at [{text}], expected [{string.Join(", ", bySite.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"))}]");
                }
            }
            if (step.Reservation is { } r)
            {
                Assert.True(cycle.Reservation is not null, $"{where}: no reservation");
                Assert.Equal(r.Job, cycle.Reservation.JobId);
                Assert.Equal(r.Shadow, cycle.Reservation.ShadowTime);
            }
        }
    }

    /// <summary>
    /// Applies a cycle's evictions and placements to the GPUs held, then checks that no GPU is held by two
    /// running jobs and no allocation reaches past its node's GPUs.
    /// </summary>
    private static void TrackHeldGpus(Fleet fleet, Dictionary<long, GpuAllocation[]> held, CycleResult cycle, string where, Func<long, bool> isSlice)
    {
        foreach (var p in cycle.Preemptions)
            Assert.True(held.Remove(p.VictimJobId), $"{where}: job {p.VictimJobId} was evicted but was not running");
        foreach (var p in cycle.Placements)
            Assert.True(held.TryAdd(p.JobId, p.Gpus), $"{where}: job {p.JobId} was placed while already running");
        var used = new ulong[fleet.NodeCount];
        foreach (var (id, gpus) in held.OrderBy(h => h.Key))
        {
            // Slices share GPUs among themselves (CheckSlicesFit checks them, and that no whole-GPU job is there).
            if (isSlice(id)) continue;
            foreach (var a in gpus)
            {
                Assert.True(a.Mask != 0 && a.Mask >> fleet.NodeGpus(a.Node) == 0, $"{where}: job {id} holds GPUs beyond the {fleet.NodeGpus(a.Node)} of node {a.Node} (mask {a.Mask:x})");
                Assert.True((used[a.Node] & a.Mask) == 0, $"{where}: job {id} holds a GPU of node {a.Node} that another running job holds (mask {used[a.Node] & a.Mask:x})");
                used[a.Node] |= a.Mask;
            }
        }
    }

    /// <summary>Slices on one GPU never add up to more than its compute or memory, and MIG instances never overlap.</summary>
    private static void CheckSlicesFit(Fleet fleet, FleetScheduler scheduler, Dictionary<long, GpuAllocation[]> held, string where)
    {
        var byGpu = held.Keys.SelectMany(id => scheduler.Slices(id).Select(s => (Id: id, Slice: s))).GroupBy(x => (x.Slice.Node, x.Slice.Gpu));
        foreach (var gpu in byGpu)
        {
            var model = fleet.Models[fleet.PoolModel(fleet.NodePool(gpu.Key.Node))];
            Assert.True(gpu.Sum(x => x.Slice.Fraction) <= 1 + 1e-9, $"{where}: node {gpu.Key.Node} GPU {gpu.Key.Gpu} runs more than its compute");
            Assert.True(gpu.Sum(x => x.Slice.MemoryGb) <= model.MemoryGb + 1e-9, $"{where}: node {gpu.Key.Node} GPU {gpu.Key.Gpu} gives out more than its memory");
            var instances = gpu.Where(x => x.Slice.MigProfile is not null).Select(x => new MigInstance(x.Slice.MigProfile!, x.Slice.MigStart)).ToList();
            if (instances.Count > 0) Assert.Null(model.Sharing!.LayoutProblem(instances));
            foreach (var x in gpu)
                foreach (var a in held.Where(h => h.Key != x.Id && scheduler.Slices(h.Key).Count == 0).SelectMany(h => h.Value))
                    Assert.False(a.Node == gpu.Key.Node && (a.Mask & (1UL << gpu.Key.Gpu)) != 0, $"{where}: a whole-GPU job holds node {a.Node} GPU {gpu.Key.Gpu}, which runs slices");
        }
    }

    private static IReadOnlyList<GpuAllocation> Alloc(FleetScheduler s, long id) =>
        s.Allocation(id) ?? throw new Xunit.Sdk.XunitException($"job {id} is not running");

    /// <summary>GPUs draw 700 W busy and 100 W idle, nodes nothing else: a site cap of (idle + n × 600) × PUE lets exactly n GPUs run.</summary>
    private static Fleet BuildFleet(Scenario s)
    {
        var models = s.Pools.Select(p => p.Model).Distinct().Select(m => s.Models.FirstOrDefault(x => x.Name == m) is { } d
            ? new GpuModel(m, d.MemoryGb, 700, 100, 1)
            {
                Sharing = new GpuSharing(d.ComputeSlices, d.MemorySlices,
                    [.. d.MigProfiles.Select(p => new MigProfile(p.Name, p.ComputeSlices, p.MemorySlices, p.MemoryGb, p.Placements))], d.TimeSharing, d.ReconfigureSeconds),
            }
            : new GpuModel(m, 80, 700, 100, 1)).ToList();
        var sites = s.Pools.Select(p => p.Site).Distinct().Select(n => s.Sites.FirstOrDefault(x => x.Name == n) is { } d
            ? new Site(n, d.Owner, d.Region, d.PowerCapMw, d.Pue)
            : new Site(n, "owner", "r", 100, 1.2)).Select(site => site with { Dedicated = s.DedicatedSites.Contains(site.Name) }).ToList();
        var pools = s.Pools.Select(p => new GpuPoolSpec(p.Site, p.Model, p.GpusPerNode, p.NodesPerDomain, p.Domains, 0)
        {
            CpusPerNode = p.CpusPerNode, MemoryGbPerNode = p.MemoryGbPerNode,
        }).ToList();
        return new Fleet(s.Name, models, sites, pools, [.. s.Links.Select(l => new SiteLink(l.From, l.To, l.Gbps) { LatencyMs = l.LatencyMs })]);
    }

    private static TenantTree BuildTree(Scenario s) => s.Tenants.Count == 0 && s.Classes.Count == 0
        ? TenantTree.Empty
        : new TenantTree(
            [.. s.Tenants.Select(t => new TenantSpec(t.Name, t.Parent, t.Guarantee, t.Weight, t.BorrowLimitGpus, t.LendLimitGpus, t.LendsToOtherOwners,
                [.. t.Grants.Select(g => new Grant(g.Name, g.GpuHours, g.Start, g.End, Enum.Parse<GrantExhaustion>(g.WhenExhausted)))], t.ReclaimsGuests))],
            [.. s.Classes.Select(c => new PriorityClass(c.Name, c.Priority, c.Preemptible, c.MinRuntime, c.Grace, c.BestEffort))]);
}
