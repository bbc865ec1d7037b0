using System.Globalization;
using GpuFleet.Simulation.Reports;
using Spectre.Console;

namespace GpuFleet.Cli.Commands;

/// <summary>Prints policies side by side: one row per figure, one column per policy.</summary>
internal static class ReportTable
{
    public static void Write(IReadOnlyList<(SimulationResult Result, double Wall)> results)
    {
        var table = new Table().Title("Policies side by side");
        table.AddColumn("figure");
        foreach (var (r, _) in results) table.AddColumn(new TableColumn(Markup.Escape(r.Report.Policy)).RightAligned());
        Row(table, results, "jobs run", r => N(r.Jobs));
        Row(table, results, "jobs rejected (never fit)", r => N(r.RejectedJobs));
        Row(table, results, "jobs larger than their guarantee", r => N(r.NeverFitJobs));
        Row(table, results, "utilization (busy span)", r => $"{r.Utilization * 100:F1}%");
        Row(table, results, "utilization while jobs arrive", r => $"{r.UtilizationWhileArriving * 100:F1}%");
        Row(table, results, "mean wait", r => Duration(r.MeanWaitSeconds));
        Row(table, results, "p50 wait", r => Duration(r.P50WaitSeconds));
        Row(table, results, "p95 wait", r => Duration(r.P95WaitSeconds));
        Row(table, results, "p99 wait", r => Duration(r.P99WaitSeconds));
        Row(table, results, "mean JCT", r => Duration(r.MeanJctSeconds));
        Row(table, results, "p99 JCT", r => Duration(r.P99JctSeconds));
        Row(table, results, "mean bounded slowdown", r => r.MeanBoundedSlowdown.ToString("F2", CultureInfo.InvariantCulture));
        Row(table, results, "makespan", r => Duration(r.MakespanSeconds));
        Row(table, results, "idle GPU-h while jobs waited", r => N((long)r.IdleGpuHoursWhileWaiting));
        Row(table, results, "fragmentation of free GPUs", r => $"{r.Fragmentation * 100:F1}%");
        Row(table, results, "energy (MWh)", r => (r.EnergyKwh / 1000).ToString("F1", CultureInfo.InvariantCulture));
        Row(table, results, "peak power (MW)", r => r.PeakPowerMw.ToString("F2", CultureInfo.InvariantCulture));
        Row(table, results, "power cap violations", r => N(r.PowerCapViolations));
        Row(table, results, "borrowed GPU-h (lent by others)", r => N((long)r.BorrowedGpuHours));
        Row(table, results, "preemptions (reclaims)", r => $"{N(r.Preemptions)} ({N(r.Reclaims)})");
        Row(table, results, "GPU-h lost to preemption", r => r.LostGpuHours.ToString("F1", CultureInfo.InvariantCulture));
        Row(table, results, "reclaim p50 / p99", r => $"{Duration(r.ReclaimP50Seconds)} / {Duration(r.ReclaimP99Seconds)}");
        Row(table, results, "large gangs: count, worst wait", r => $"{N(r.LargeGangJobs)}, {Duration(r.LargeGangMaxWaitSeconds)}");
        if (results.Any(r => r.Result.Report.NodeFailures is not null))
        {
            Row(table, results, "node failures", r => N(r.NodeFailures ?? 0));
            Row(table, results, "jobs interrupted by failures", r => N(r.JobsInterruptedByFailures ?? 0));
            Row(table, results, "GPU-h lost to failures", r => (r.FailureLostGpuHours ?? 0).ToString("F1", CultureInfo.InvariantCulture));
            Row(table, results, "GPU-h out of service", r => (r.OutOfServiceGpuHours ?? 0).ToString("F1", CultureInfo.InvariantCulture));
        }
        table.AddRow(new[] { "wall time" }.Concat(results.Select(r => $"{r.Wall:F2} s")).ToArray());
        AnsiConsole.Write(table);
        WriteSites(results);
    }

    /// <summary>Per site: utilization and peak facility power against the cap, for each policy.</summary>
    private static void WriteSites(IReadOnlyList<(SimulationResult Result, double Wall)> results)
    {
        var sites = results[0].Result.Report.Sites;
        if (sites.Count < 2) return;
        var table = new Table().Title("Sites: utilization, peak MW / cap MW");
        table.AddColumns("site", "owner", "GPUs");
        foreach (var (r, _) in results) table.AddColumn(new TableColumn(Markup.Escape(r.Report.Policy)).RightAligned());
        for (var i = 0; i < sites.Count; i++)
        {
            var cells = new List<string> { sites[i].Site, sites[i].Owner, N(sites[i].Gpus) };
            foreach (var (r, _) in results)
            {
                var s = r.Report.Sites[i];
                cells.Add(string.Create(CultureInfo.InvariantCulture, $"{s.Utilization * 100:F1}%  {s.PeakPowerMw:F1} / {s.PowerCapMw:F1}"));
            }
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
    }

    /// <summary>Per tenant: mean and p99 wait, use of its guarantee, guarantee delivery, borrowed and lent GPU-hours.</summary>
    public static void WriteTenants(IReadOnlyList<(SimulationResult Result, double Wall)> results)
    {
        var table = new Table().Title("Tenants: mean wait / p99 wait · used/guaranteed · guarantee held · borrowed / lent GPU-h");
        table.AddColumns("tenant", "owner", "guarantee");
        foreach (var (r, _) in results) table.AddColumn(new TableColumn(Markup.Escape(r.Report.Policy)).RightAligned());
        var first = results[0].Result.Report.PerTenant;
        foreach (var t in first)
        {
            var cells = new List<string> { t.Tenant, t.Owner, N(t.GuaranteeGpus) };
            foreach (var (r, _) in results)
            {
                var x = r.Report.PerTenant.FirstOrDefault(y => y.Tenant == t.Tenant);
                if (x is null)
                {
                    cells.Add("-");
                    continue;
                }
                var held = x.GuaranteeHeld is { } h ? (h * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";
                var never = x.NeverFitJobs > 0 ? $" · {x.NeverFitJobs} never fit" : "";
                cells.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{Duration(x.MeanWaitSeconds)} / {Duration(x.P99WaitSeconds)} · {x.UtilizationOfGuarantee * 100:F0}% · {held} · {x.BorrowedGpuHours:F0} / {x.LentGpuHours:F0}{never}"));
            }
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
    }

    private static void Row(Table table, IReadOnlyList<(SimulationResult Result, double Wall)> results, string name, Func<SimulationReport, string> cell) =>
        table.AddRow(new[] { name }.Concat(results.Select(r => cell(r.Result.Report))).Select(Markup.Escape).ToArray());

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    internal static string Duration(double seconds) => seconds switch
    {
        <= 0 => "0 s",
        < 60 => $"{seconds:F0} s",
        < 3_600 => $"{seconds / 60:F1} min",
        < 172_800 => $"{seconds / 3_600:F2} h",
        _ => $"{seconds / 86_400:F2} d",
    };
}
