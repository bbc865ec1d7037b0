using GpuFleet.Server.Dashboard;
using GpuFleet.Server.Execution;
using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Tests;

/// <summary>The dashboard's fleet page as markup: what it says of a site's cluster (nodes it lists that GpuFleet does not schedule, GPUs its own users hold, runs it has not started).</summary>
[Trait("Category", "Unit")]
public sealed class FleetPageTests
{
    private static FleetSnapshot With(IReadOnlyList<UnscheduledNode>? nodes) => new(DateTimeOffset.UnixEpoch, 1, [],
        [new FleetSnapshot.SiteView("hpc", "o", 24, 8, 0.01, 1, 8, "slurm", true, DateTimeOffset.UnixEpoch, null, UnscheduledNodes: nodes)], []);

    [Fact]
    public void Unscheduled_nodes_show_under_their_sites_executor_with_their_gpus_and_reasons()
    {
        var page = FleetPage.Main(With([new UnscheduledNode("n04", 8, null, 8, "not in the fleet <restart>"), new UnscheduledNode("n01", 12, null, 4, "lists 12 GPUs")])).Text;
        Assert.Contains("12 GPUs listed, not scheduled:", page);
        Assert.Contains("<span title=\"not in the fleet &lt;restart&gt;\">n04</span>, <span title=\"lists 12 GPUs\">n01</span>", page);
        Assert.DoesNotContain("not scheduled", FleetPage.Main(With(null)).Text);
    }

    [Fact]
    public void Gpus_the_clusters_own_users_hold_are_told_apart_from_those_down()
    {
        var view = new FleetSnapshot(DateTimeOffset.UnixEpoch, 1, [],
            [new FleetSnapshot.SiteView("hpc", "o", 24, 8, 0.01, 1, 12, "slurm", true, DateTimeOffset.UnixEpoch, null, HeldByOthersGpus: 4)], []);
        Assert.Contains("12<br><span class=\"muted\">4 held by the cluster", FleetPage.Main(view).Text);
        Assert.DoesNotContain("own users", FleetPage.Main(With(null)).Text);
    }

    [Fact]
    public void Runs_the_cluster_has_not_started_show_the_longest_wait_with_the_clusters_words_and_turn_to_a_problem_after_a_minute()
    {
        static FleetSnapshot View(TimeSpan waited) => new(DateTimeOffset.UnixEpoch + waited, 1, [],
            [new FleetSnapshot.SiteView("hpc", "o", 24, 8, 0.01, 1, 0, "slurm", true, DateTimeOffset.UnixEpoch, null,
                WaitingInCluster: new ClusterWait(3, DateTimeOffset.UnixEpoch, 42, "a", "PENDING (ReqNodeNotAvail, <held>)"), SetAsideNodes: ["n03", "n04"])], []);
        static string Page(TimeSpan waited) => FleetPage.Main(View(waited)).Text;
        Assert.Contains("<span class=\"muted\">3 runs not started by the cluster</span> <span class=\"muted\">longest: <a href=\"/jobs/42\">job 42</a>, 20s, PENDING (ReqNodeNotAvail, &lt;held&gt;)</span>",
            Page(TimeSpan.FromSeconds(20)));
        Assert.Contains("<span class=\"problem\">3 runs not started by the cluster</span>", Page(TimeSpan.FromMinutes(2)));
        Assert.Contains("<span class=\"problem\">set aside: n[03-04]</span>", Page(TimeSpan.Zero));
        // Another tenant's member sees the count and the wait, not the job nor the reason.
        var seen = FleetPage.Main(View(TimeSpan.FromSeconds(20)).SeenBy(new Security.Caller(2, Security.Role.Member, "b"))).Text;
        Assert.Contains("<span class=\"muted\">longest: 20s</span>", seen);
        Assert.DoesNotContain("job 42", seen);
        Assert.Contains("job 42", FleetPage.Main(View(TimeSpan.FromSeconds(20)).SeenBy(new Security.Caller(3, Security.Role.Member, "a"))).Text);
        Assert.DoesNotContain("not started", FleetPage.Main(With(null)).Text);
    }
}
