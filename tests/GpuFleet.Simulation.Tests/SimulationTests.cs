using GpuFleet.Core.Workloads;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Workloads;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Tests;

[Trait("Category", "Simulation")]
public sealed class SimulationTests
{
    [Fact]
    public void Same_seed_gives_byte_identical_workload_report_and_series()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("korea-2026.yaml"));
        string Run()
        {
            var jobs = WorkloadGenerator.Generate(WorkloadModel.Default, fleet, 2, 0.9, 42);
            var result = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.FairShare });
            var csv = new StringWriter();
            TimeSeriesCsv.Write(csv, result);
            return JsonSerializer.Serialize(result.Report) + csv;
        }
        var first = Run();
        Assert.Equal(first, Run());
        static string Runtimes(int seed) => string.Join(",", WorkloadGenerator.Generate(WorkloadModel.Default, FleetFile.Load(TestFiles.Fleet("korea-2026.yaml")), 2, 0.9, seed).Select(j => j.RuntimeSeconds));
        Assert.NotEqual(Runtimes(42), Runtimes(43));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Generator_offers_the_requested_load(double load)
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var jobs = WorkloadGenerator.Generate(WorkloadModel.Default, fleet, 60, load, 7);
        var offered = jobs.Sum(j => (double)j.RuntimeSeconds * j.Spec.Gpus) / (fleet.TotalGpus * 60 * 86_400.0);
        // Heavy-tailed run times: a 60-day sample lands within 35% of the target.
        Assert.InRange(offered, load * 0.65, load * 1.35);
        Assert.All(jobs, j => Assert.InRange(j.Spec.Gpus, 1, fleet.TotalGpus));
    }

    [Fact]
    public void Backfill_and_fairshare_wait_less_than_fifo_on_the_contended_sample_at_the_same_utilization()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace);
        var fifo = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.Fifo }).Report;
        foreach (var policy in new[] { SchedulingPolicy.EasyBackfill, SchedulingPolicy.FairShare })
        {
            var r = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = policy }).Report;
            Assert.True(r.MeanWaitSeconds < fifo.MeanWaitSeconds, $"{policy.Name}: mean wait {r.MeanWaitSeconds} vs fifo {fifo.MeanWaitSeconds}");
            Assert.True(r.Utilization >= fifo.Utilization - 1e-9, $"{policy.Name}: utilization {r.Utilization} vs fifo {fifo.Utilization}");
            Assert.Equal(jobs.Count, r.Jobs);
        }
    }

    [Fact]
    public void Report_accounts_every_job_and_sane_figures()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(3_000).ToList();
        var result = Simulator.Run(fleet, jobs, new SchedulerOptions(), new SimulationOptions { SampleIntervalSeconds = 600 });
        var r = result.Report;
        Assert.Equal(jobs.Count, r.Jobs + r.RejectedJobs);
        Assert.InRange(r.Utilization, 0.01, 1.0);
        Assert.InRange(r.UtilizationWhileArriving, 0.01, 1.0);
        Assert.True(r.P50WaitSeconds <= r.P95WaitSeconds && r.P95WaitSeconds <= r.P99WaitSeconds);
        Assert.True(r.MeanJctSeconds >= r.MeanWaitSeconds);
        Assert.InRange(r.Fragmentation, 0, 1);
        var site = Assert.Single(r.Sites);
        Assert.True(site.PeakPowerMw <= site.PowerCapMw, "peak power above the site cap");
        Assert.True(site.EnergyKwh > 0);
        Assert.Equal(jobs.Select(j => j.Spec.Tenant).Distinct().Count(), r.PerTenant.Count);
        Assert.Equal(r.Jobs, r.PerTenant.Sum(t => t.Jobs));
        Assert.All(result.Series, s => Assert.InRange(s.Utilization, 0, 1.0000001));
    }

    [Fact]
    public void A_binding_power_cap_holds_the_peak_just_under_it()
    {
        var capped = FleetFile.Load(TestFiles.Fleet("philly-power-capped.yaml"));
        var uncapped = new Fleet(capped.Name, capped.Models, [.. capped.Sites.Select(s => s with { PowerCapMw = 100 })], capped.PoolSpecs, capped.Links);
        var cap = capped.Sites[0].PowerCapMw;
        // The cap binds: the site at full load would draw more than it.
        Assert.True(capped.SitePowerWatts(0, [capped.TotalGpus]) > cap * 1e6);
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(3_000).ToList();
        var free = Simulator.Run(uncapped, jobs, new SchedulerOptions()).Report;
        var held = Simulator.Run(capped, jobs, new SchedulerOptions()).Report;
        // Without the cap the same run draws more than the cap allows; with it, the peak stays under the cap but
        // within 10% of it (the scheduler fills the power budget rather than leaving it idle).
        Assert.True(free.Sites[0].PeakPowerMw > cap, $"uncapped peak {free.Sites[0].PeakPowerMw} MW, cap {cap} MW");
        Assert.InRange(held.Sites[0].PeakPowerMw, 0.9 * cap, cap);
        Assert.Equal(0, held.PowerCapViolations);
        Assert.Equal(jobs.Count, held.Jobs);
    }

    [Fact]
    public void A_job_larger_than_the_fleet_is_counted_as_rejected_not_hidden()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(100).ToList();
        var big = jobs[0] with { Spec = jobs[0].Spec with { Id = 999_999, Gpus = 1_000 } };
        var r = Simulator.Run(fleet, [.. jobs, big], new SchedulerOptions()).Report;
        Assert.Equal(1, r.RejectedJobs);
        Assert.Contains("999999", r.RejectedExamples.Single());
        Assert.Equal(100, r.Jobs);
    }

    [Fact]
    public void Cancellations_stop_running_jobs_and_withdraw_waiting_ones()
    {
        var fleet = new Fleet("one", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 1, 0)]);
        TraceJob Job(long id, long submit, long runtime, long? cancel) =>
            new(new JobSpec(id, "t", 8, [], TopologyNeed.Site, 3_600, 0, submit), runtime) { CancelAtSeconds = cancel };
        // Job 1 runs from 0 and is cancelled at 100; job 2 waits behind it and is cancelled at 20; job 3 starts when job 1 stops.
        var r = Simulator.Run(fleet, [Job(1, 0, 1_000, 100), Job(2, 10, 50, 20), Job(3, 30, 10, null)], new SchedulerOptions()).Report;
        Assert.Equal(2, r.CancelledJobs);
        Assert.Equal(2, r.Jobs);
        Assert.Equal((0 + 70) / 2.0, r.MeanWaitSeconds);
        Assert.Equal(110, r.MakespanSeconds);
    }

    [Fact]
    public void Data_that_cannot_reach_the_site_leaves_the_run_to_time_out_at_its_limit()
    {
        // Two sites without a link: the job must run at s2, its data is at s1.
        var fleet = new Fleet("two", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s1", "o", "r", 10, 1.2), new Site("s2", "o", "r", 10, 1.2)],
            [new GpuPoolSpec("s2", "G", 8, 1, 1, 0)]);
        var job = new TraceJob(new JobSpec(1, "t", 8, [], TopologyNeed.Site, 600, 0, 0) { DataSite = "s1", DataGb = 10 }, 60);
        var r = Simulator.Run(fleet, [job], new SchedulerOptions()).Report;
        Assert.Equal(1, r.TimedOutJobs);
        Assert.Equal(600, r.MakespanSeconds);
    }
}
