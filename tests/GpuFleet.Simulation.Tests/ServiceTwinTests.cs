using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;
using GpuFleet.Data;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Services;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;
using static GpuFleet.Tests.Shared.JobBuilder;

namespace GpuFleet.Simulation.Tests;

/// <summary>Inference services in the twin: replicas scaled along a rate curve, and what the report says of them.</summary>
[Trait("Category", "Simulation")]
public sealed class ServiceTwinTests
{
    /// <summary>An edge site in region seoul (1 node × 4 GPUs), 3 ms from a data centre in sejong (2 nodes × 4 GPUs).</summary>
    private static Fleet EdgeAndCentre() => new("edge", [new GpuModel("G", 80, 700, 100, 1)],
        [new Site("edge-seoul", "o", "seoul", 10, 1.2), new Site("dc-sejong", "o", "sejong", 10, 1.2)],
        [new GpuPoolSpec("edge-seoul", "G", 4, 1, 1, 0), new GpuPoolSpec("dc-sejong", "G", 4, 1, 2, 0)],
        [new SiteLink("edge-seoul", "dc-sejong", 100) { LatencyMs = 3 }]);

    private static IReadOnlyList<ServiceLoad> ServicesFile(string yaml, Fleet fleet)
    {
        var path = TestFiles.Temp("services.yaml");
        File.WriteAllText(path, yaml);
        return ServiceFile.Load(path, fleet);
    }

    private static SimulationResult Run(Fleet fleet, IReadOnlyList<ServiceLoad> services, IReadOnlyList<TraceJob>? jobs = null, long sample = 3_600,
        SchedulerOptions? scheduling = null) =>
        Simulator.Run(fleet, jobs ?? [], scheduling ?? new SchedulerOptions { Policy = SchedulingPolicy.EasyBackfill },
            new SimulationOptions { Services = services, SampleIntervalSeconds = sample });

    private const string Chat = """
        services:
          - name: chat
            tenant: t
            gpusPerReplica: 1
            maxReplicas: 20
            requestsPerSecondPerReplica: 100
            targetUtilization: 1
            region: seoul
            latencyBudgetMs: 5
            rate:
              points:
                - { at: 0, requestsPerSecond: 200 }
                - { at: 1000, requestsPerSecond: RATE }
                - { at: 2000, requestsPerSecond: 100 }
                - { at: 3000, requestsPerSecond: 100 }
        """;

    [Fact]
    public void With_capacity_enough_every_wanted_replica_runs_and_every_request_is_served()
    {
        var fleet = EdgeAndCentre();
        var s = Assert.Single(Run(fleet, ServicesFile(Chat.Replace("RATE", "600"), fleet)).Report.Services!);
        Assert.Equal(3000, s.ActiveSeconds);
        Assert.Equal(0, s.UnderReplicatedSeconds);
        Assert.Equal(1, s.ShareMet);
        Assert.Equal(1, s.RateMetShare);
        Assert.Equal(0, s.UnservedRequests);
        Assert.Equal(200 * 1000 + 600 * 1000 + 100 * 1000, s.Requests);
        Assert.Equal((1, 6), (s.MinReplicas, s.MaxReplicas));
        Assert.Equal((2 + 6 + 1) / 3.0, s.MeanReplicas, 9);
        Assert.Equal(6, s.ReplicasStarted);
        Assert.Equal(0, s.ScaleUpMaxSeconds);
        // From two replicas to six at t=1000 (its deployment, to two, is no rise).
        Assert.Equal(4, s.LargestRiseReplicas);
    }

    [Fact]
    public void Short_of_capacity_the_service_is_under_replicated_and_requests_go_unserved()
    {
        // 12 GPUs in all: at 1,500 requests/s it wants 15 replicas for 1,000 s; 12 run.
        var fleet = EdgeAndCentre();
        var s = Assert.Single(Run(fleet, ServicesFile(Chat.Replace("RATE", "1500"), fleet)).Report.Services!);
        Assert.Equal(1000, s.UnderReplicatedSeconds);
        Assert.Equal(2.0 / 3, s.ShareMet, 9);
        // 12 replicas serve 1,200 of the 1,500 requests/s: the rate is short for those 1,000 s too.
        Assert.Equal(2.0 / 3, s.RateMetShare, 9);
        Assert.Equal(300 * 1000, s.UnservedRequests, 6);
        Assert.Equal(12, s.MaxReplicas);
        Assert.True(s.ServedShare < 1);
        Assert.Equal(s.Requests - s.UnservedRequests, s.RequestsWithinBudget!.Value, 6);
        Assert.Equal(s.UnservedRequests, s.RequestsOutsideBudget!.Value, 6);
    }

    [Fact]
    public void An_edge_service_spills_only_when_the_edge_is_full()
    {
        var fleet = EdgeAndCentre();
        // 200/s: 2 replicas, both at the edge (4 GPUs). 600/s: 6 replicas, 4 at the edge and 2 spilled to sejong. 100/s: 1, at the edge.
        var s = Assert.Single(Run(fleet, ServicesFile(Chat.Replace("RATE", "600"), fleet)).Report.Services!);
        Assert.Equal(200 * 1000, s.ServedSpilled!.Value, 6);
        Assert.Equal(200 * 1000 + 400 * 1000 + 100 * 1000, s.ServedAtEdge!.Value, 6);
        Assert.Equal("seoul", s.Region);

        // At 400/s the edge holds all four: nothing spills.
        var fits = Assert.Single(Run(fleet, ServicesFile(Chat.Replace("RATE", "400"), fleet)).Report.Services!);
        Assert.Equal(0, fits.ServedSpilled!.Value);
    }

    [Fact]
    public void Standby_replicas_spilled_from_a_full_edge_serve_nothing_while_the_edge_replicas_serve()
    {
        var fleet = EdgeAndCentre();
        // Two standing by: at 200/s four run, all at the edge; at 600/s eight, four at the edge and four spilled. The six
        // that serve are the four at the edge and two spilled: 200/s of the 600 spill, as without standby replicas.
        var yaml = Chat.Replace("RATE", "600").Replace("latencyBudgetMs: 5", "latencyBudgetMs: 5\n    standbyReplicas: 2");
        var s = Assert.Single(Run(fleet, ServicesFile(yaml, fleet)).Report.Services!);
        Assert.Equal(8, s.MaxReplicas);
        Assert.Equal(0, s.UnservedRequests);
        Assert.Equal(200 * 1000, s.ServedSpilled!.Value, 6);
        Assert.Equal(200 * 1000 + 400 * 1000 + 100 * 1000, s.ServedAtEdge!.Value, 6);
        Assert.Equal(4, s.LargestRiseReplicas);
    }

    /// <summary>
    /// One node of 4 GPUs and four preemptible training jobs (grace 30 s) of tenant t; t's production service wants
    /// no replica until t=400, then one.
    /// </summary>
    private static SimulationResult RunBesidePreemptibleTraining(int standby)
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 4).Build();
        var jobs = Enumerable.Range(1, 4).Select(i => new TraceJob(Job(i).Gpus(1).Limit(100_000).Class("preemptible").Build(), 50_000)).ToList();
        var services = new[]
        {
            new ServiceLoad(new ServiceSpec("chat", "t", 1, 0, 4, 100, 1) { PriorityClass = "production", StandbyReplicas = standby },
                [new ServiceRatePoint(0, 0), new ServiceRatePoint(400, 100), new ServiceRatePoint(1000, 100)]),
        };
        var tree = new TenantTree([new TenantSpec("t", null, new Dictionary<string, int> { ["G"] = 4 })]);
        return Run(fleet, services, jobs, scheduling: new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree });
    }

    [Fact]
    public void Replicas_run_from_their_placement_plus_the_grace_of_those_they_evicted()
    {
        // A production replica evicts a training job at t=400 and runs from t=430.
        var result = RunBesidePreemptibleTraining(standby: 0);
        var s = Assert.Single(result.Report.Services!);
        Assert.Equal(30, s.ScaleUpMaxSeconds);
        Assert.Equal(30, s.UnderReplicatedSeconds);
        Assert.Equal(1, result.Report.Preemptions);
        // The training jobs keep their own figures: four ran.
        Assert.Equal(4, result.Report.Jobs);
    }

    [Fact]
    public void A_standby_replica_takes_a_scale_up_at_once_and_its_refill_waits_for_the_grace_instead()
    {
        // As above, with one replica standing by: placed at t=0 (it goes first among the jobs submitted then, as the
        // higher class; one training job waits), it serves from t=400 at once; the standby asked for in its place
        // evicts a training job and runs from t=430, after its grace.
        var result = RunBesidePreemptibleTraining(standby: 1);
        var s = Assert.Single(result.Report.Services!);
        Assert.Equal(1, s.ScaleUps);
        Assert.Equal(0, s.ScaleUpMaxSeconds);
        Assert.Equal(0, s.UnderReplicatedSeconds);
        Assert.Equal(1, s.RateMetShare);
        Assert.Equal(2, s.ReplicasStarted);
        Assert.Equal(1, result.Report.Preemptions);
        // Standing by, serving nothing: t=0..400 the first, its replacement from t=430 to the end of the run.
        Assert.Equal((400 + s.ActiveSeconds - 430) / 3600.0, s.StandbyReplicaHours!.Value, 9);
        // The standby replica serves nothing: the rate before t=400 is 0, and after it one replica serves it all.
        Assert.Equal(0, s.UnservedRequests);
        Assert.Equal(1, s.StandbyReplicas);
    }

    [Fact]
    public void A_run_without_services_reports_none_and_one_with_them_reports_each()
    {
        var fleet = EdgeAndCentre();
        var without = Run(fleet, [], [new TraceJob(Job(1).Gpus(1).Limit(100).Build(), 10)]);
        Assert.Null(without.Report.Services);
        Assert.DoesNotContain("\"services\"", JsonSerializer.Serialize(without.Report, PolicyReportJson.Options));

        var with = Run(fleet, ServicesFile(Chat.Replace("RATE", "600"), fleet), sample: 1000);
        Assert.Contains("\"services\"", JsonSerializer.Serialize(with.Report, PolicyReportJson.Options));
        var csv = new StringWriter();
        TimeSeriesCsv.Write(csv, with);
        var lines = csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith(",replicas:chat", lines[0].TrimEnd('\r'));
        Assert.Equal(["2.00", "6.00", "1.00"], lines.Skip(1).Select(l => l.TrimEnd('\r').Split(',')[^1]));
    }

    [Fact]
    public void Training_decisions_are_the_same_with_a_service_that_takes_nothing_from_them()
    {
        // A service on its own site: the trace's jobs see the same fleet at the trace's site either way.
        var fleet = new Fleet("two", [new GpuModel("G", 80, 700, 100, 1)],
            [new Site("train", "o", "r", 10, 1.2), new Site("serve", "o", "s", 10, 1.2)],
            [new GpuPoolSpec("train", "G", 8, 1, 2, 0), new GpuPoolSpec("serve", "G", 4, 1, 1, 0)]);
        var jobs = Enumerable.Range(1, 40).Select(i => new TraceJob(Job(i).Gpus(1 + i % 8).Limit(5000).At(i * 37).Site("train").Build(), 300 + i * 91 % 2000)).ToList();
        var service = new ServiceLoad(new ServiceSpec("chat", "t", 1, 1, 4, 100, 1) { Region = "s" }, [new ServiceRatePoint(0, 300), new ServiceRatePoint(5000, 50)]);
        var a = Run(fleet, [], jobs).Report;
        var b = Run(fleet, [service], jobs).Report;
        Assert.Equal((a.Jobs, a.MeanWaitSeconds, a.P99WaitSeconds, a.MeanJctSeconds), (b.Jobs, b.MeanWaitSeconds, b.P99WaitSeconds, b.MeanJctSeconds));
    }

    [Fact]
    public void The_services_file_reads_every_field_and_names_the_field_at_fault()
    {
        var fleet = EdgeAndCentre();
        var load = Assert.Single(ServicesFile("""
            services:
              - name: chat
                tenant: t
                gpusPerReplica: 2
                minReplicas: 1
                maxReplicas: 8
                requestsPerSecondPerReplica: 40
                targetUtilization: 0.7
                models: [G]
                slice: "0.5:20"
                cpusPerGpu: 4
                memoryGbPerGpu: 32
                priorityClass: production
                region: seoul
                latencyBudgetMs: 5
                standbyReplicas: 2
                rate: { points: [ { at: 0, requestsPerSecond: 10 }, { at: 1h, requestsPerSecond: 20 } ], scale: 2, shiftSeconds: 60 }
            """, fleet));
        var s = load.Service;
        Assert.Equal(("chat", "t", 2, 1, 8, 40.0, 0.7), (s.Name, s.Tenant, s.GpusPerReplica, s.MinReplicas, s.MaxReplicas, s.RequestsPerSecondPerReplica, s.TargetUtilization));
        Assert.Equal(["G"], s.Models);
        Assert.Equal(new SliceRequest(null, 0.5, 20), s.Slice);
        Assert.Equal((4.0, 32.0, "production", "seoul", 5.0), (s.CpusPerGpu, s.MemoryGbPerGpu, s.PriorityClass, s.Region, s.LatencyBudgetMs));
        Assert.Equal([new ServiceRatePoint(60, 20), new ServiceRatePoint(3660, 40)], load.Rate);
        Assert.Equal(2, s.StandbyReplicas);

        var bad = Assert.Throws<DataFileException>(() => ServicesFile("services:\n  - { name: a, tenant: t, maxReplicas: 2, requestsPerSecondPerReplica: 1, region: mars, rate: { points: [ { at: 0, requestsPerSecond: 1 } ] } }\n", fleet));
        Assert.Equal("services[0].region", bad.Field);
        var order = Assert.Throws<DataFileException>(() => ServicesFile("services:\n  - { name: a, tenant: t, maxReplicas: 2, requestsPerSecondPerReplica: 1, rate: { points: [ { at: 10, requestsPerSecond: 1 }, { at: 5, requestsPerSecond: 1 } ] } }\n", fleet));
        Assert.Contains("not after", order.Problem);
        var typo = Assert.Throws<DataFileException>(() => ServicesFile("services:\n  - { name: a, tenant: t, maxReplicas: 2, requestsPerSecondPerReplica: 1, latencyBudget: 3, rate: { points: [ { at: 0, requestsPerSecond: 1 } ] } }\n", fleet));
        Assert.Equal("services[0].latencyBudget", typo.Field);
        var tooMany = Assert.Throws<DataFileException>(() => ServicesFile("services:\n  - { name: a, tenant: t, maxReplicas: 2, standbyReplicas: 3, requestsPerSecondPerReplica: 1, rate: { points: [ { at: 0, requestsPerSecond: 1 } ] } }\n", fleet));
        Assert.Equal("services[0].standbyReplicas", tooMany.Field);
    }

    [Fact]
    public void A_rate_curve_is_read_from_csv_or_from_the_genai_trace_summed_over_containers_per_window()
    {
        var plain = TestFiles.Temp("rate.csv");
        File.WriteAllText(plain, "seconds,requestsPerSecond\n0,1.5\n600,3\n");
        Assert.Equal([new ServiceRatePoint(0, 1.5), new ServiceRatePoint(600, 3)], ServiceFile.ReadCsv(plain));

        // Window 0: container a averages (1 + 3) / 2 = 2, b gives 1 → 3; window 1 is empty → 0; window 2: a gives 4. API rows are left out.
        var genai = TestFiles.Temp("qps.csv");
        File.WriteAllText(genai, """
            timestamp_anon,value,container_ip,request_type
            1000.0,1,a,Generative Requests
            1100.0,3,a,Generative Requests
            1200.0,1,b,Generative Requests
            1300.0,50,,API Requests
            2300.0,4,a,Generative Requests
            """);
        Assert.Equal([new ServiceRatePoint(0, 3), new ServiceRatePoint(600, 0), new ServiceRatePoint(1200, 4)], ServiceFile.ReadCsv(genai));

        var broken = TestFiles.Temp("broken.csv");
        File.WriteAllText(broken, "seconds,requestsPerSecond\n0,1\n0,2\n");
        Assert.Equal(("seconds", 3L), (Assert.Throws<DataFileException>(() => ServiceFile.ReadCsv(broken)).Field, Assert.Throws<DataFileException>(() => ServiceFile.ReadCsv(broken)).Line));
    }

    [Fact]
    public void The_shipped_sample_curve_is_a_day_of_ten_minute_points()
    {
        var curve = ServiceFile.ReadCsv(Path.Combine(TestFiles.Root, "traces", "rates", "alibaba-genai-rate.csv"));
        Assert.Equal(133, curve.Count);
        Assert.All(curve.Zip(curve.Skip(1)), p => Assert.Equal(600, p.Second.Seconds - p.First.Seconds));
        Assert.InRange(curve.Max(p => p.RequestsPerSecond) / curve.Average(p => p.RequestsPerSecond), 1.5, 4);
    }

    [Fact]
    public void The_korean_edge_fleet_has_two_small_sites_per_region_that_replicas_take_first()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("korea-2030-edge.yaml"));
        var edge = Enumerable.Range(0, fleet.Sites.Count).Where(i => fleet.Sites[i].Name.StartsWith("edge-", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, edge.Count);
        Assert.All(edge, i => Assert.Equal(4, fleet.SiteGpus(i)));
        Assert.All(fleet.Sites.Select(s => s.Region).Distinct(), region => Assert.Equal(2, edge.Count(i => fleet.Sites[i].Region == region)));
        Assert.All(edge, i => Assert.InRange(fleet.Links.Where(l => l.From == fleet.Sites[i].Name).Single().LatencyMs, 2, 8));
        var services = new ServiceFleet(new FleetScheduler(fleet),
            [new ServiceSpec("chat", "t", 1, 1, 8, 10, 1) { Models = ["RTXPRO6000"], Region = "Gangwon", LatencyBudgetMs = 8 }]);
        var sites = services.Sites(0)!;
        Assert.Equal(["naver-chuncheon", "edge-gangwon-1", "edge-gangwon-2"], sites.Take(3));
        Assert.All(sites.Skip(3), s => Assert.NotEqual("Gangwon", fleet.Sites[fleet.SiteIndex(s)].Region));
    }
}
