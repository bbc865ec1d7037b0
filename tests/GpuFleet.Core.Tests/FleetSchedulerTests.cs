using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

[Trait("Category", "Unit")]
public sealed class FleetSchedulerTests
{
    private static Fleet OneNode(int gpus = 8) =>
        new("f", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", gpus, 1, 1, 0)]);

    [Fact]
    public void Bad_submissions_are_refused_with_the_field_named()
    {
        var s = new FleetScheduler(OneNode());
        Assert.Contains("gpus", s.Submit(new JobSpec(1, "t", 0, [], TopologyNeed.Site, 10, 0, 0)).Error);
        Assert.Contains("timeLimitSeconds", s.Submit(new JobSpec(2, "t", 1, [], TopologyNeed.Site, 0, 0, 0)).Error);
        Assert.Contains("tenant", s.Submit(new JobSpec(3, " ", 1, [], TopologyNeed.Site, 10, 0, 0)).Error);
        Assert.True(s.Submit(new JobSpec(4, "t", 1, [], TopologyNeed.Site, 10, 0, 0)).Accepted);
        Assert.Contains("already exists", s.Submit(new JobSpec(4, "t", 1, [], TopologyNeed.Site, 10, 0, 0)).Error);
        Assert.Equal(1, s.PendingCount);
    }

    [Fact]
    public void Unknown_class_site_or_data_site_is_refused_with_the_field_named()
    {
        var s = new FleetScheduler(OneNode());
        Assert.Contains("priorityClass: unknown class 'urgent'", s.Submit(new JobSpec(1, "t", 1, [], TopologyNeed.Site, 10, 0, 0) { PriorityClass = "urgent" }).Error);
        Assert.Contains("site: unknown site 'mars'", s.Submit(new JobSpec(2, "t", 1, [], TopologyNeed.Site, 10, 0, 0) { Site = "mars" }).Error);
        Assert.Contains("dataSite: unknown site 'moon'", s.Submit(new JobSpec(3, "t", 1, [], TopologyNeed.Site, 10, 0, 0) { DataSite = "moon" }).Error);
        Assert.Equal(0, s.PendingCount);
    }

    [Fact]
    public void Every_pending_job_has_a_reason_and_an_estimated_start()
    {
        // Two 8-GPU nodes, full: A (8 GPUs) ends at t=300 on one; B and C (4 each) end at t=100 and t=200 on the other.
        var fleet = new Fleet("f", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);
        var s = new FleetScheduler(fleet);
        foreach (var (id, gpus, limit) in new[] { (1, 8, 300), (2, 4, 100), (3, 4, 200), (4, 8, 1000), (5, 4, 1000), (6, 16, 1000), (7, 12, 1000) })
            s.Submit(new JobSpec(id, "t", gpus, [], TopologyNeed.Site, limit, 0, 0));
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
        s.Submit(new JobSpec(1, "t", 9 - 1, [], TopologyNeed.Site, 10, 0, 0));
        s.Submit(new JobSpec(2, "t", 8, [], TopologyNeed.Site, 10, 0, 0));
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
        s.Submit(new JobSpec(1, "a", 8, [], TopologyNeed.Site, 1000, 0, 0));
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
        s.Submit(new JobSpec(1, "t", 8, [], TopologyNeed.Site, 100, 0, 0));
        s.Submit(new JobSpec(2, "t", 8, [], TopologyNeed.Site, 100, 0, 0));
        Assert.Equal(PendingReason.NotYetConsidered, s.Explain(2)!.Reason);
        s.RunCycle(0);
        var why = s.Explain(2)!;
        Assert.Equal(PendingReason.Reserved, why.Reason);
        Assert.Equal(100, why.EstimatedStart);
        Assert.Contains("t=100", why.Message);
    }
}
