using System.Globalization;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Data.Traces;

/// <summary>
/// Reads the Microsoft Philly trace as reduced for Pollux (columns <c>timestamp,duration,num_gpus,gpu_time,cluster</c>;
/// CC BY 4.0). Each virtual cluster is a tenant. Submit times become seconds after the earliest job;
/// the file is not sorted, so jobs are sorted here. Philly records no wall-time limit, so each job
/// gets its run time rounded up by <see cref="TimeLimitLadder"/>.
/// </summary>
public static class PhillyTraceReader
{
    /// <summary>The header that identifies the format.</summary>
    public const string Header = "timestamp,duration,num_gpus,gpu_time,cluster";

    /// <summary>Reads a Philly file (plain or gzip).</summary>
    public static IReadOnlyList<TraceJob> Read(string path)
    {
        using var text = TraceCsv.Open(path);
        using var reader = TraceCsv.Reader(text, path);
        int ts = TraceCsv.Column(reader, path, "timestamp"), dur = TraceCsv.Column(reader, path, "duration"),
            gpus = TraceCsv.Column(reader, path, "num_gpus"), vc = TraceCsv.Column(reader, path, "cluster");
        var rows = new List<(DateTime Submit, TraceRow Row)>();
        foreach (var row in reader)
        {
            if (TraceCsv.IsBlank(row, reader, path)) continue;
            var stamp = row[ts].ToString();
            if (!DateTime.TryParseExact(stamp, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var submit))
                throw new DataFileException(path, row.LineNumberFrom, "timestamp", $"must be 'yyyy-MM-dd HH:mm:ss', not '{stamp}'");
            var runtime = Math.Max(1L, (long)Math.Ceiling(TraceCsv.Number(row, dur, path, "duration", min: 0)));
            rows.Add((submit, new TraceRow(0, runtime, TraceCsv.Integer(row, gpus, path, "num_gpus", min: 1), "vc-" + TraceCsv.Text(row, vc, path, "cluster"), row.LineNumberFrom)));
        }
        if (rows.Count == 0) return [];
        var start = rows.Min(r => r.Submit);
        return TraceCsv.Number([.. rows.Select(r => r.Row with { Submit = (long)(r.Submit - start).TotalSeconds })]);
    }
}
