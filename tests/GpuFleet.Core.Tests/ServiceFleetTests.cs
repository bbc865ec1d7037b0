using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;
using static GpuFleet.Tests.Shared.JobBuilder;

namespace GpuFleet.Core.Tests;

[Trait("Category", "Unit")]
public sealed class ServiceFleetTests
{
    private static ServiceSpec Chat(int gpus = 2, int max = 8) => new("chat", "t", gpus, 0, max, 100, 1);

    /// <summary>Three sites: edge-seoul (region seoul) 3 ms from dc-sejong, which is 6 ms from dc-busan; busan-edge 2 ms from dc-busan.</summary>
    private static Fleet Regions() => new("f", [new GpuModel("G", 80, 700, 100, 1)],
        [new Site("edge-seoul", "o", "seoul", 10, 1.2), new Site("dc-sejong", "o", "sejong", 10, 1.2), new Site("dc-busan", "o", "busan", 10, 1.2),
         new Site("edge-busan", "o", "busan", 10, 1.2)],
        [new GpuPoolSpec("edge-seoul", "G", 4, 1, 1, 0), new GpuPoolSpec("dc-sejong", "G", 8, 1, 1, 0), new GpuPoolSpec("dc-busan", "G", 8, 1, 1, 0),
         new GpuPoolSpec("edge-busan", "G", 4, 1, 1, 0)],
        [new SiteLink("edge-seoul", "dc-sejong", 100) { LatencyMs = 3 }, new SiteLink("dc-sejong", "dc-busan", 100) { LatencyMs = 6 },
         new SiteLink("edge-busan", "dc-busan", 100) { LatencyMs = 2 }, new SiteLink("edge-seoul", "dc-busan", 100)]);

    [Fact]
    public void Scaling_down_frees_the_GPUs_at_once_without_a_cycle()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8).Build());
        var services = new ServiceFleet(scheduler, [Chat()]);
        var up = services.Scale(0, 400, 0);
        Assert.Equal(4, up.Count(c => c.Kind == ReplicaChangeKind.Submitted));
        services.Observe(scheduler.RunCycle(0));
        Assert.Equal(0, scheduler.FreeGpus(0));
        Assert.Equal(4, services.Placed(0));

        var down = services.Scale(0, 150, 60);
        Assert.Equal(2, down.Count);
        Assert.All(down, c => Assert.True(c.Kind == ReplicaChangeKind.Ended && c.WasPlaced));
        // Before any cycle: the ended replicas' GPUs are free, and the scheduler no longer holds them.
        Assert.Equal(4, scheduler.FreeGpus(0));
        Assert.Equal(2, scheduler.RunningCount);
        Assert.All(down, c => Assert.Null(scheduler.Allocation(c.JobId)));
        Assert.Equal(2, services.Placed(0));
    }

    [Fact]
    public void Scaling_down_ends_waiting_replicas_before_placed_ones_and_the_newest_placed_first()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 4).Build());
        var services = new ServiceFleet(scheduler, [Chat()]);
        var first = services.Scale(0, 100, 0).Single().JobId;
        services.Observe(scheduler.RunCycle(0));
        var second = services.Scale(0, 200, 10).Single().JobId;
        services.Observe(scheduler.RunCycle(10));
        var third = services.Scale(0, 300, 20).Single().JobId;
        services.Observe(scheduler.RunCycle(20));
        Assert.Equal((2, 1), (services.Placed(0), services.Pending(0)));

        Assert.Equal([third], services.Scale(0, 200, 30).Select(c => c.JobId));
        var ended = services.Scale(0, 100, 40).Single();
        Assert.Equal(second, ended.JobId);
        Assert.True(ended.WasPlaced);
        Assert.NotNull(scheduler.Allocation(first));
    }

    [Fact]
    public void Replicas_are_jobs_of_the_service_shape_with_ids_of_their_own_range()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8).Build());
        var services = new ServiceFleet(scheduler, [Chat(gpus: 3) with { MinReplicas = 1, PriorityClass = "production" }]);
        var change = services.Scale(0, 0, 5).Single();
        Assert.True(ServiceFleet.IsReplicaId(change.JobId));
        Assert.Equal(ServiceFleet.FirstReplicaId, change.JobId);
        Assert.False(ServiceFleet.IsReplicaId(ServiceFleet.FirstReplicaId - 1));
        var cycle = scheduler.RunCycle(5);
        var placement = Assert.Single(cycle.Placements);
        Assert.Equal(3, placement.Gpus.Sum(g => g.Count));
        Assert.Equal(0, services.ServiceOf(change.JobId));
        Assert.Equal(-1, services.ServiceOf(1));
    }

    [Fact]
    public void An_evicted_replica_counts_as_waiting()
    {
        // Tenant a borrows b's idle guarantee for its replicas; b's job reclaims it.
        var tree = new TenantTree([new TenantSpec("a", null, new Dictionary<string, int> { ["G"] = 4 }), new TenantSpec("b", null, new Dictionary<string, int> { ["G"] = 4 })]);
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 4, domains: 2).Build(), new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree });
        var services = new ServiceFleet(scheduler, [new ServiceSpec("chat", "a", 4, 0, 2, 100, 1)]);
        services.Scale(0, 200, 0);
        services.Observe(scheduler.RunCycle(0));
        Assert.Equal(2, services.Placed(0));
        Assert.True(scheduler.Submit(Job(1).Tenant("b").Gpus(4).Limit(1000).At(700).Build()).Accepted);
        var cycle = scheduler.RunCycle(700);
        services.Observe(cycle);
        Assert.Single(cycle.Preemptions);
        Assert.True(ServiceFleet.IsReplicaId(cycle.Preemptions[0].VictimJobId));
        Assert.Equal((1, 1), (services.Placed(0), services.Pending(0)));
        Assert.Equal(-1, services.SiteOf(cycle.Preemptions[0].VictimJobId));
    }

    [Fact]
    public void A_lost_replica_queues_again_and_waits()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 2).Build());
        var services = new ServiceFleet(scheduler, [Chat()]);
        var id = services.Scale(0, 100, 0).Single().JobId;
        services.Observe(scheduler.RunCycle(0));
        Assert.True(services.Requeue(id, 10));
        Assert.Equal((0, 1), (services.Placed(0), services.Pending(0)));
        Assert.False(services.Requeue(id, 10));
        Assert.Equal(2, scheduler.FreeGpus(0));
    }

    [Fact]
    public void Sites_are_the_region_first_then_others_within_the_budget_nearest_first()
    {
        var fleet = Regions();
        var scheduler = new FleetScheduler(fleet);
        var services = new ServiceFleet(scheduler,
        [
            Chat() with { Name = "seoul-tight", Region = "seoul", LatencyBudgetMs = 5 },
            Chat() with { Name = "seoul-any", Region = "seoul" },
            Chat() with { Name = "busan", Region = "busan", LatencyBudgetMs = 8 },
            Chat() with { Name = "anywhere" },
        ]);
        Assert.Equal(["edge-seoul", "dc-sejong"], services.Sites(0));
        // The unstated latency of the direct seoul–busan link is no route: busan is 9 ms away via sejong.
        Assert.Equal(["edge-seoul", "dc-sejong", "dc-busan", "edge-busan"], services.Sites(1));
        Assert.Equal(["dc-busan", "edge-busan", "dc-sejong"], services.Sites(2));
        Assert.Null(services.Sites(3));
        Assert.True(services.IsEdge(2, fleet.SiteIndex("edge-busan")));
        Assert.False(services.IsEdge(2, fleet.SiteIndex("dc-sejong")));
    }

    [Fact]
    public void Latency_is_the_shortest_path_over_stated_link_latencies()
    {
        var fleet = Regions();
        int S(string name) => fleet.SiteIndex(name);
        Assert.Equal(0, fleet.SiteLatencyMs(S("dc-sejong"), S("dc-sejong")));
        Assert.Equal(9, fleet.SiteLatencyMs(S("edge-seoul"), S("dc-busan")));
        Assert.Equal(11, fleet.SiteLatencyMs(S("edge-busan"), S("edge-seoul")));
        Assert.Equal(0, fleet.RegionLatencyMs("busan", S("edge-busan")));
        Assert.Equal(6, fleet.RegionLatencyMs("busan", S("dc-sejong")));
        Assert.Equal(3, fleet.RegionLatencyMs("seoul", S("dc-sejong")));
        Assert.True(double.IsPositiveInfinity(fleet.RegionLatencyMs("mars", S("dc-sejong"))));
        Assert.Throws<FleetValidationException>(() => new Fleet("f", fleet.Models, fleet.Sites, fleet.PoolSpecs, [new SiteLink("edge-seoul", "dc-sejong", 1) { LatencyMs = -1 }]));
    }

    [Fact]
    public void A_service_that_cannot_run_is_refused_with_the_field_named()
    {
        var scheduler = new FleetScheduler(Regions());
        Assert.Equal("region", Assert.Throws<ServiceValidationException>(() => new ServiceFleet(scheduler, [Chat() with { Region = "mars" }])).Field);
        Assert.Equal("maxReplicas", Assert.Throws<ServiceValidationException>(() => new ServiceFleet(scheduler, [Chat(max: 0)])).Field);
        var big = Assert.Throws<ServiceValidationException>(() => new ServiceFleet(scheduler, [Chat(gpus: 8) with { Region = "seoul", LatencyBudgetMs = 1 }]));
        Assert.Equal("replica", big.Field);
        Assert.Contains("never fit within one node", big.Problem);
        var twice = Assert.Throws<ServiceValidationException>(() => new ServiceFleet(scheduler, [Chat(), Chat()]));
        Assert.Equal((1, "name"), (twice.Index, twice.Field));
    }

    [Fact]
    public void A_job_listing_sites_runs_at_the_first_with_room_and_nowhere_else()
    {
        var fleet = Regions();
        var s = new FleetScheduler(fleet);
        JobSpec Listed(long id, params string[] sites) => Job(id).Gpus(4).Limit(100).Build() with { Sites = sites };
        Assert.True(s.Submit(Listed(1, "dc-busan", "edge-seoul")).Accepted);
        Assert.True(s.Submit(Listed(2, "dc-busan", "edge-seoul")).Accepted);
        Assert.True(s.Submit(Listed(3, "dc-busan", "edge-seoul")).Accepted);
        Assert.True(s.Submit(Listed(4, "dc-busan", "edge-seoul")).Accepted);
        var cycle = s.RunCycle(0);
        var at = cycle.Placements.ToDictionary(p => p.JobId, p => fleet.Sites[p.Site].Name);
        Assert.Equal("dc-busan", at[1]);
        Assert.Equal("dc-busan", at[2]);
        Assert.Equal("edge-seoul", at[3]);
        Assert.False(at.ContainsKey(4));
        Assert.Contains("sites: unknown site 'mars'", s.Submit(Listed(5, "mars")).Error);
        Assert.Contains("listed twice", s.Submit(Listed(6, "dc-busan", "dc-busan")).Error);
        Assert.Contains("at least one site", s.Submit(Listed(7)).Error);
        Assert.Contains("not both", s.Submit(Listed(8, "dc-busan") with { Site = "dc-busan" }).Error);
    }
}
