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
        var fleet = new Fleet("f", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);
        var s = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.FairShare });
        long id = 0;
        foreach (var (gpus, limit) in new[] { (8, 1000), (6, 500), (4, 2000), (8, 300), (16, 100), (2, 50), (1, 10), (7, 700) })
            s.Submit(new JobSpec(++id, $"t{id % 3}", gpus, [], TopologyNeed.Site, limit, 0, 0));
        s.RunCycle(0);
        Assert.True(s.PendingCount > 0);
        for (var j = 1; j <= id; j++)
        {
            if (s.Allocation(j) is not null) continue;
            var why = s.Explain(j)!;
            Assert.NotEqual(PendingReason.NotYetConsidered, why.Reason);
            Assert.False(string.IsNullOrWhiteSpace(why.Message));
            // An estimate from a test-only placement: no earlier than now, no later than the last running job's limit.
            Assert.True(why.EstimatedStart is >= 0 and <= 2000, $"job {j}: {why.Message}");
        }
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
        var atEnd = s.TenantUsage("a");
        // 8 GPUs for one half-life: 8 × 100 / ln 2 × (1 − 1/2) ≈ 577 GPU-seconds after decay weighting.
        Assert.InRange(atEnd, 576, 578);
        s.RunCycle(200);
        Assert.InRange(s.TenantUsage("a"), atEnd / 2 - 0.01, atEnd / 2 + 0.01);
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
