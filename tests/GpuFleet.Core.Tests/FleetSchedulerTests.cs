using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;
using static GpuFleet.Tests.Shared.JobBuilder;

namespace GpuFleet.Core.Tests;

[Trait("Category", "Unit")]
public sealed class FleetSchedulerTests
{
    private static Fleet OneNode(int gpus = 8) => FleetBuilder.Pool(gpusPerNode: gpus).Build();

    [Fact]
    public void Bad_submissions_are_refused_with_the_field_named()
    {
        var s = new FleetScheduler(OneNode());
        Assert.Contains("gpus", s.Submit(Job(1).Gpus(0).Limit(10).Build()).Error);
        Assert.Contains("timeLimitSeconds", s.Submit(Job(2).Limit(0).Build()).Error);
        Assert.Contains("tenant", s.Submit(Job(3).Tenant(" ").Limit(10).Build()).Error);
        Assert.True(s.Submit(Job(4).Limit(10).Build()).Accepted);
        Assert.Contains("already exists", s.Submit(Job(4).Limit(10).Build()).Error);
        Assert.Equal(1, s.PendingCount);
    }

    [Fact]
    public void Unknown_class_site_or_data_site_is_refused_with_the_field_named()
    {
        var s = new FleetScheduler(OneNode());
        Assert.Contains("priorityClass: unknown class 'urgent'", s.Submit(Job(1).Limit(10).Class("urgent").Build()).Error);
        Assert.Contains("site: unknown site 'mars'", s.Submit(Job(2).Limit(10).Site("mars").Build()).Error);
        Assert.Contains("dataSite: unknown site 'moon'", s.Submit(Job(3).Limit(10).DataSite("moon").Build()).Error);
        Assert.Equal(0, s.PendingCount);
    }

    [Fact]
    public void Every_pending_job_has_a_reason_and_an_estimated_start()
    {
        // Two 8-GPU nodes, full: A (8 GPUs) ends at t=300 on one; B and C (4 each) end at t=100 and t=200 on the other.
        var fleet = FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build();
        var s = new FleetScheduler(fleet);
        foreach (var (id, gpus, limit) in new[] { (1, 8, 300), (2, 4, 100), (3, 4, 200), (4, 8, 1000), (5, 4, 1000), (6, 16, 1000), (7, 12, 1000) })
            s.Submit(Job(id).Gpus(gpus).Limit(limit).Build());
        var cycle = s.RunCycle(0);
        Assert.Equal([1L, 2L, 3L], cycle.Placements.Select(p => p.JobId).Order());
        var a = s.Allocation(1)!.Single().Node;
        Assert.All(new[] { 2L, 3L }, id => Assert.NotEqual(a, s.Allocation(id)!.Single().Node));

        // The 8-GPU head needs a whole node: B's node is whole again when C ends, at t=200.
        // 4 GPUs are free as soon as B ends (t=100); 16 and 12 need A's node too (t=300).
        foreach (var (id, reason, start) in new[] { (4L, PendingReason.Reserved, 200L), (5L, PendingReason.NoFreeGpus, 100L), (6L, PendingReason.NoFreeGpus, 300L), (7L, PendingReason.NoFreeGpus, 300L) })
        {
            var why = s.Explain(id)!;
            Assert.True(why.Reason == reason, $"job {id}: {why.Reason}, expected {reason} ({why.Message})");
            Assert.True(why.EstimatedStart == start, $"job {id}: estimated start {why.EstimatedStart}, expected {start} ({why.Message})");
            Assert.Contains($"t={start}", why.Message);
        }

        // B ends on time: its 4 GPUs are held for the head, and the estimates stay with the ends still to come.
        s.End(2, 100);
        Assert.Empty(s.RunCycle(100).Placements);
        Assert.Equal(200, s.Explain(4)!.EstimatedStart);
        Assert.Equal(PendingReason.HeldForReservation, s.Explain(5)!.Reason);
        Assert.Equal(300, s.Explain(6)!.EstimatedStart);
        Assert.Equal(300, s.Explain(7)!.EstimatedStart);
    }

    [Fact]
    public void Cancelling_a_pending_job_removes_it_and_ending_an_unknown_job_is_refused()
    {
        var s = new FleetScheduler(OneNode());
        s.Submit(Job(1).Gpus(9 - 1).Limit(10).Build());
        s.Submit(Job(2).Gpus(8).Limit(10).Build());
        s.RunCycle(0);
        Assert.True(s.End(2, 1));
        Assert.False(s.End(2, 1));
        Assert.False(s.End(99, 1));
        Assert.Equal(0, s.PendingCount);
        Assert.Null(s.Explain(1));
    }

    [Fact]
    public void Fair_share_use_decays_with_the_half_life()
    {
        var s = new FleetScheduler(OneNode(), new SchedulerOptions { Policy = SchedulingPolicy.FairShare, FairShareHalfLifeSeconds = 100 });
        s.Submit(Job(1).Tenant("a").Gpus(8).Limit(1000).Build());
        s.RunCycle(0);
        s.End(1, 100);
        var atEnd = s.Tenants.Usage("a");
        // 8 GPUs for one half-life: 8 × 100 / ln 2 × (1 − 1/2) ≈ 577 GPU-seconds after decay weighting.
        Assert.InRange(atEnd, 576, 578);
        s.RunCycle(200);
        Assert.InRange(s.Tenants.Usage("a"), atEnd / 2 - 0.01, atEnd / 2 + 0.01);
    }

    [Fact]
    public void A_pending_job_always_has_a_readable_reason()
    {
        var s = new FleetScheduler(OneNode());
        s.Submit(Job(1).Gpus(8).Build());
        s.Submit(Job(2).Gpus(8).Build());
        Assert.Equal(PendingReason.NotYetConsidered, s.Explain(2)!.Reason);
        s.RunCycle(0);
        var why = s.Explain(2)!;
        Assert.Equal(PendingReason.Reserved, why.Reason);
        Assert.Equal(100, why.EstimatedStart);
        Assert.Contains("t=100", why.Message);
    }

    [Fact]
    public void Check_refuses_exactly_what_Submit_refuses_and_queues_nothing()
    {
        var tree = new TenantTree([new TenantSpec("a", null, new Dictionary<string, int> { ["G"] = 8 }), new TenantSpec("b", null, new Dictionary<string, int> { ["G"] = 8 })]);
        var s = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build(), new SchedulerOptions { Policy = SchedulingPolicy.Static, Tenants = tree });
        s.Submit(Job(100).Tenant("a").Build());
        JobSpec[] specs =
        [
            Job(1).Tenant("a").Gpus(0).Build(),
            Job(2).Tenant("a").Limit(0).Build(),
            Job(3).Tenant(" ").Build(),
            Job(4).Tenant("nobody").Build(),
            Job(5).Tenant("a").Class("urgent").Build(),
            Job(6).Tenant("a").Site("mars").Build(),
            Job(7).Tenant("a").DataSite("moon").Build(),
            Job(8).Tenant("a").Models("X").Build(),
            Job(9).Tenant("a").Gpus(64).Build(),
            Job(10).Tenant("a").Gpus(12).Build(),
            Job(100).Tenant("a").Build(),
            Job(11).Tenant("b").Gpus(8).Build(),
        ];
        foreach (var spec in specs)
        {
            var before = s.PendingCount;
            var check = s.Check(spec);
            Assert.Equal(before, s.PendingCount);
            Assert.Equal(s.Submit(spec), check);
        }
        // The refusals were of every kind, the guarantee's among them, and the one good job was accepted.
        Assert.True(s.Check(Job(12).Tenant("a").Gpus(12).Build()).ExceedsGuarantee);
        Assert.Equal(2, s.PendingCount);

        // A tenant not seen yet would join the tree on submission: Check says yes but adds nothing.
        var open = new FleetScheduler(OneNode());
        var tenants = open.Tenants.Count;
        Assert.True(open.Check(Job(1).Tenant("newcomer").Build()).Accepted);
        Assert.Equal(tenants, open.Tenants.Count);
        Assert.Equal(0, open.PendingCount);
        Assert.True(open.Submit(Job(1).Tenant("newcomer").Build()).Accepted);
        Assert.Equal(tenants + 1, open.Tenants.Count);
    }

    [Fact]
    public void A_preemption_whose_job_then_fails_to_place_evicts_nobody_and_changes_nothing()
    {
        // The reclaim of preemption-never-over-evicts.yaml: the lender's 48-GPU job would evict five of the borrower's 8-GPU jobs.
        var fleet = FleetBuilder.Pool(gpusPerNode: 8, domains: 12).Build();
        var tree = new TenantTree([new TenantSpec("lender", null, new Dictionary<string, int> { ["G"] = 96 }), new TenantSpec("borrower", null, new Dictionary<string, int> { ["G"] = 0 })]);
        var s = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree });
        s.Submit(Job(1).Tenant("borrower").Gpus(40).Limit(100_000).Build());
        s.RunCycle(0);
        for (var id = 2; id <= 7; id++) s.Submit(Job(id).Tenant("borrower").Gpus(8).Limit(100_000).At(1800).Build());
        Assert.Equal(6, s.RunCycle(1800).Placements.Count);
        s.Submit(Job(8).Tenant("lender").Gpus(48).At(3600).Build());
        var before = Snapshot(s);

        // The victims are stopped, then the job does not place after all: all of it is undone.
        var place = s.Preemptor.PlaceAfterEviction;
        s.Preemptor.PlaceAfterEviction = _ => null;
        var failed = s.RunCycle(3600);
        Assert.Empty(failed.Preemptions);
        Assert.Empty(failed.Placements);
        Assert.Equal(before, Snapshot(s));
        Assert.NotEqual(PendingReason.Preempted, s.Explain(8)!.Reason);

        // The state put back is one the scheduler goes on from: the next search evicts and places as it should.
        s.Preemptor.PlaceAfterEviction = place;
        var next = s.RunCycle(3630);
        Assert.Equal([2L, 3L, 4L, 5L, 6L], next.Preemptions.Select(p => p.VictimJobId).Order());
        Assert.Equal([8L], next.Placements.Select(p => p.JobId));
        Assert.Equal(48, s.Tenants.Use(0, 0));
        Assert.Equal(48, s.Tenants.Use(1, 0));
    }

    /// <summary>Everything a rolled-back eviction must leave as it was, in words: GPUs, pools, tenants' use, queues, allocations.</summary>
    private static string Snapshot(FleetScheduler s)
    {
        var fleet = s.Fleet;
        var parts = new List<string>
        {
            string.Join(",", Enumerable.Range(0, fleet.NodeCount).Select(n => s.NodeUsedMask(n))),
            string.Join(",", s.BusyByPool.ToArray()),
            string.Join(",", Enumerable.Range(0, fleet.PoolCount).Select(p => $"{s.FreeGpus(p)}/{s.FreeInEmptyNodes(p)}")),
            string.Join(",", Enumerable.Range(0, s.Tenants.Count).SelectMany(n => Enumerable.Range(0, fleet.Models.Count).Select(m => s.Tenants.Use(n, m)))),
            $"{s.RunningCount} running, {s.PendingCount} pending",
        };
        for (var id = 1; id <= 8; id++)
            parts.Add($"{id}: {(s.Allocation(id) is { } a ? string.Join(" ", a.Select(x => $"{x.Node}:{x.Mask:x}")) : "pending")}");
        return string.Join("\n", parts);
    }
    [Fact]
    public void An_adopted_run_holds_exactly_its_gpus_and_frees_them_when_it_ends()
    {
        var s = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build());
        var adopted = s.Adopt(Job(7).Gpus(4).Limit(1000).Build(), [new GpuAllocation(1, 0b1111_0000)], startedAt: 50);
        Assert.True(adopted.Accepted, adopted.Error);
        Assert.Equal(0b1111_0000UL, s.NodeUsedMask(1));
        Assert.Equal(1, s.RunningCount);
        Assert.Equal(0, s.PendingCount);
        // The next cycle neither places it again nor gives its GPUs away: an 8-GPU job goes to node 0.
        Assert.True(s.Submit(Job(8).Gpus(8).Limit(1000).Build()).Accepted);
        var cycle = s.RunCycle(60);
        Assert.Equal([8L], cycle.Placements.Select(p => p.JobId));
        Assert.Equal(0xFFUL, s.NodeUsedMask(0));
        Assert.True(s.End(7, 100));
        Assert.Equal(0UL, s.NodeUsedMask(1));
    }

    [Fact]
    public void Adopting_a_run_on_gpus_already_taken_is_refused_and_changes_nothing()
    {
        var s = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build());
        Assert.True(s.Adopt(Job(1).Gpus(4).Limit(1000).Build(), [new GpuAllocation(0, 0b0000_1111)], 0).Accepted);
        var clash = s.Adopt(Job(2).Gpus(6).Limit(1000).Build(), [new GpuAllocation(1, 0b0000_0011), new GpuAllocation(0, 0b0011_1100)], 0);
        Assert.False(clash.Accepted);
        Assert.Contains("not free", clash.Error);
        Assert.Equal(0b0000_1111UL, s.NodeUsedMask(0));
        Assert.Equal(0UL, s.NodeUsedMask(1));
        Assert.Equal(1, s.RunningCount);
        Assert.Equal(0, s.PendingCount);
        Assert.Contains("holds 2 GPUs", s.Adopt(Job(3).Gpus(4).Limit(1000).Build(), [new GpuAllocation(1, 0b11)], 0).Error);
        // The refused job left no trace: the same id can be submitted.
        Assert.True(s.Submit(Job(2).Gpus(1).Limit(10).Build()).Accepted);
    }

    [Fact]
    public void A_requeued_job_runs_again_and_its_old_gpus_stay_out_while_the_node_is_down()
    {
        var s = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build());
        Assert.True(s.Adopt(Job(1).Gpus(8).Limit(1000).Build(), [new GpuAllocation(0, 0xFF)], 0).Accepted);
        s.SetOutOfService(0, 8);
        Assert.True(s.Requeue(1, 10));
        Assert.False(s.Requeue(1, 10));
        Assert.Equal(8, s.OutOfService(0));
        var cycle = s.RunCycle(20);
        Assert.Equal(1, cycle.Placements.Single().JobId);
        Assert.Equal(0UL, s.NodeUsedMask(0));
        Assert.Equal(0xFFUL, s.NodeUsedMask(1));
    }
}

