using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Workloads;
using GpuFleet.Simulation.Charts;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Tests;

/// <summary>
/// The parts of the twin the server's twin runs share with <c>simulate</c>: a run stops when asked, the
/// expected size of a generated workload, the JSON report and the charts (in memory as in files, a tenant's
/// share as the report's GPU-hours say).
/// </summary>
[Trait("Category", "Simulation")]
public sealed class TwinPartsTests
{
    [Fact]
    public void A_run_asked_to_stop_stops_with_OperationCanceledException()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(2_000).ToList();
        using var stop = new CancellationTokenSource();
        var seen = 0.0;
        // Asked to stop at a quarter of its jobs: it never reaches half.
        Assert.Throws<OperationCanceledException>(() => Simulator.Run(fleet, jobs, new SchedulerOptions(), new SimulationOptions
        {
            Progress = share =>
            {
                seen = share;
                if (share >= 0.25) stop.Cancel();
            },
            Cancellation = stop.Token,
        }));
        Assert.InRange(seen, 0.25, 0.5);
        // Not asked, the same run ends.
        Assert.Equal(2_000, Simulator.Run(fleet, jobs, new SchedulerOptions()).Report.Jobs);
    }

    [Theory]
    [InlineData("philly.yaml", 7, 0.9)]
    [InlineData("korea-2026.yaml", 2, 0.5)]
    public void The_expected_size_of_a_generated_workload_is_close_to_what_is_generated(string fleetFile, double days, double load)
    {
        var fleet = FleetFile.Load(TestFiles.Fleet(fleetFile));
        var expected = WorkloadGenerator.ExpectedJobs(WorkloadModel.Default, fleet, days, load);
        var counts = new[] { 1, 2, 3 }.Select(seed => WorkloadGenerator.Generate(WorkloadModel.Default, fleet, days, load, seed).Count).ToList();
        // Poisson counts around the mean: a few percent either way for thousands of jobs.
        Assert.InRange(counts.Average(), expected * 0.9, expected * 1.1);
        Assert.Equal(2 * expected, WorkloadGenerator.ExpectedJobs(WorkloadModel.Default, fleet, days, 2 * load), 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkloadGenerator.ExpectedJobs(WorkloadModel.Default, fleet, 0, load));
    }

    [Fact]
    public void The_report_is_keyed_by_policy_with_wall_seconds_and_the_charts_are_the_same_in_memory_as_in_files()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(1_000).ToList();
        var results = new[] { SchedulingPolicy.Fifo, SchedulingPolicy.EasyBackfill }
            .Select(p => Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = p }, new SimulationOptions { TraceName = "cut.csv" })).ToList();
        var json = PolicyReportJson.Write(results.Select((r, i) => (r, i + 0.12345)));
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(["fifo", "backfill"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1.123, doc.RootElement.GetProperty("backfill").GetProperty("wallSeconds").GetDouble());
        Assert.Equal("cut.csv", doc.RootElement.GetProperty("fifo").GetProperty("trace").GetString());
        Assert.EndsWith("}\n", json);

        var directory = TestFiles.Temp("charts");
        var files = PolicyCharts.Write(directory, results, 2.0);
        var charts = PolicyCharts.Render(results, 2.0);
        Assert.Equal(["utilization.svg", "queue.svg", "power.svg", "wait-cdf.svg", "tenant-share.svg"], charts.Select(c => c.File));
        // Skia numbers the clip paths of a process's SVGs as it goes: the same chart drawn twice differs in those ids alone.
        static string Unnumbered(string svg) => System.Text.RegularExpressions.Regex.Replace(svg, "cl_[0-9a-f]+", "cl_");
        Assert.Equal(charts.Select(c => Unnumbered(c.Svg)), files.Select(f => Unnumbered(File.ReadAllText(f))));
        Assert.All(charts, c => Assert.StartsWith("<?xml", c.Svg));

        // Shares are GPU-hours over the run's: they add up to one per policy, and the largest tenant is on the chart.
        var shares = PolicyCharts.TenantShares(results);
        Assert.Equal(1.0, shares.Values.Sum(s => s[0]), 9);
        var top = results[0].Report.PerTenant.MaxBy(t => t.GpuHours)!;
        Assert.Equal(top.GpuHours / results[0].Report.PerTenant.Sum(t => t.GpuHours), shares[top.Tenant][0], 9);
        Assert.Contains(top.Tenant, charts.Single(c => c.File == "tenant-share.svg").Svg);
    }
}
