using System.Diagnostics;
using GpuFleet.Core.Workloads;
using GpuFleet.Data;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Workloads;
using GpuFleet.Simulation.Charts;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Server.Twin;

/// <summary>
/// A twin run carried out as <c>gpufleet simulate</c> carries out the same inputs: the trace read by the
/// same readers (or generated as <c>workload generate</c> does), each policy through the same
/// <see cref="Simulator"/> with the same settings, the report written by <see cref="PolicyReportJson"/> and
/// the charts drawn by <see cref="PolicyCharts"/> — so the report is the text <c>simulate --json</c> writes
/// (wall-clock seconds aside). Example: policies backfill and shared on the Philly sample report progress
/// 0 → 0.5 while backfill's jobs are submitted, 0.5 → 1 for shared's, then draw the charts.
/// </summary>
public static class TwinSimulation
{
    /// <summary>The charts a run keeps and the page shows, in its order.</summary>
    public static readonly IReadOnlyList<string> ChartFiles = ["utilization.svg", "wait-cdf.svg", "tenant-share.svg", "power.svg"];

    /// <summary>Runs <paramref name="request"/>; see <see cref="TwinRunner"/>.</summary>
    public static TwinResult Run(TwinRequest request, Action<double, string> progress, CancellationToken cancel)
    {
        progress(0, "reading the trace");
        var jobs = Jobs(request);
        cancel.ThrowIfCancellationRequested();
        var results = new List<(SimulationResult Result, double WallSeconds)>();
        var count = request.Policies.Count;
        for (var i = 0; i < count; i++)
        {
            var policy = request.Policies[i];
            var stage = $"simulating {policy.Name} ({i + 1} of {count})";
            var done = i;
            progress((double)done / count, stage);
            var watch = Stopwatch.StartNew();
            var result = Simulator.Run(request.Fleet, jobs, request.Scheduling with { Policy = policy, Tenants = request.Tenants }, new SimulationOptions
            {
                TraceName = request.Trace.ReportName,
                SampleIntervalSeconds = request.SampleIntervalSeconds,
                Progress = share => progress((done + share) / count, stage),
                Cancellation = cancel,
            });
            results.Add((result, watch.Elapsed.TotalSeconds));
        }
        progress(1, "drawing the charts");
        var simulated = results.Select(r => r.Result).ToList();
        var cap = request.Fleet.Sites.Sum(s => s.PowerCapMw);
        var charts = PolicyCharts.Render(simulated, cap);
        return new TwinResult(PolicyReportJson.Write(results), [.. ChartFiles.Select(f => charts.Single(c => c.File == f))],
            [.. simulated.Select(r => r.Report)], PolicyCharts.TenantShares(simulated), cap);
    }

    // The trace's jobs: read as simulate reads them (errors name the file as the user knows it), or generated.
    private static IReadOnlyList<TraceJob> Jobs(TwinRequest request)
    {
        var trace = request.Trace;
        if (trace.Source == TwinTraceSource.Generate)
            return WorkloadGenerator.Generate(WorkloadModel.Default, request.Fleet, trace.Days, trace.Load, trace.Seed, request.Tenants);
        try
        {
            return TraceFile.Load(trace.Path!);
        }
        catch (DataFileException e)
        {
            throw TwinCatalog.Renamed(e, trace.Source == TwinTraceSource.Sample ? $"traces/{trace.ReportName}" : trace.Name);
        }
    }
}
