using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary><see cref="FleetScheduler.Check"/>: the answer <see cref="FleetScheduler.Submit"/> would give, without queuing.</summary>
[Trait("Category", "Unit")]
public sealed class SubmissionCheckTests
{
    [Fact]
    public void Check_answers_as_submit_does_and_queues_nothing()
    {
        var fleet = new Fleet("f", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);
        JobSpec[] jobs =
        [
            new(1, "t", 8, [], TopologyNeed.Node, 10, 0, 0),
            new(2, "t", 9, [], TopologyNeed.Node, 10, 0, 0),
            new(3, "t", 17, [], TopologyNeed.Site, 10, 0, 0),
            new(4, "t", 1, [], TopologyNeed.Site, 10, 0, 0) { Site = "mars" },
            new(5, "t", 1, ["H"], TopologyNeed.Site, 10, 0, 0),
        ];
        var checking = new FleetScheduler(fleet);
        var submitting = new FleetScheduler(fleet);
        foreach (var job in jobs)
        {
            var check = checking.Check(job);
            Assert.Equal(submitting.Submit(job), check);
            // Checked again: still not queued, so not "already exists".
            Assert.Equal(check, checking.Check(job));
        }
        Assert.Equal(0, checking.PendingCount);
        Assert.Equal(1, submitting.PendingCount);
        Assert.Equal("gpus: 9 GPUs can never fit within one node of this fleet (largest: 8 GPUs of an acceptable model)", checking.Check(jobs[1]).Error);
    }
}
