using System.Globalization;
using System.Text;
using GpuFleet.Core.Workloads;
using nietras.SeparatedValues;

namespace GpuFleet.Data.Traces;

/// <summary>
/// GpuFleet's own trace format (<c>docs/trace-format.md</c>): one job per CSV row with the header
/// <c>id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority</c>.
/// <c>models</c> is a <c>|</c>-separated list (empty: any model); <c>topology</c> is
/// <c>site</c> (default), <c>node</c>, <c>domain</c> or <c>anywhere</c>; <c>priority</c> defaults to 0.
/// Optional columns, written always and read when present: <c>priorityClass</c>, <c>site</c>,
/// <c>dataSite</c>, <c>dataGb</c>, <c>checkpointSeconds</c>, <c>cancelSeconds</c>, <c>cpusPerGpu</c>,
/// <c>memoryGbPerGpu</c>, <c>slice</c> (empty: none; a slice is <c>mig:1g.23gb</c> or <c>0.25:20</c>).
/// </summary>
public static class NativeTrace
{
    /// <summary>The header line.</summary>
    public const string Header = "id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority";

    /// <summary>The header <see cref="Write"/> writes: the required columns and the optional ones.</summary>
    public const string FullHeader = Header + ",priorityClass,site,dataSite,dataGb,checkpointSeconds,cancelSeconds,cpusPerGpu,memoryGbPerGpu,slice";

    /// <summary>Reads a native trace (plain or gzip); rows are sorted by submit time.</summary>
    public static IReadOnlyList<TraceJob> Read(string path)
    {
        using var text = TraceCsv.Open(path);
        using var reader = TraceCsv.Reader(text, path);
        int id = TraceCsv.Column(reader, path, "id"), submit = TraceCsv.Column(reader, path, "submitSeconds"),
            tenant = TraceCsv.Column(reader, path, "tenant"), gpus = TraceCsv.Column(reader, path, "gpus"),
            models = TraceCsv.Column(reader, path, "models"), topology = TraceCsv.Column(reader, path, "topology"),
            limit = TraceCsv.Column(reader, path, "timeLimitSeconds"), runtime = TraceCsv.Column(reader, path, "runtimeSeconds"),
            priority = TraceCsv.Column(reader, path, "priority");
        int priorityClass = TraceCsv.OptionalColumn(reader, "priorityClass"), site = TraceCsv.OptionalColumn(reader, "site"),
            dataSite = TraceCsv.OptionalColumn(reader, "dataSite"), dataGb = TraceCsv.OptionalColumn(reader, "dataGb"),
            checkpoint = TraceCsv.OptionalColumn(reader, "checkpointSeconds"), cancel = TraceCsv.OptionalColumn(reader, "cancelSeconds"),
            cpus = TraceCsv.OptionalColumn(reader, "cpusPerGpu"), memory = TraceCsv.OptionalColumn(reader, "memoryGbPerGpu"),
            slice = TraceCsv.OptionalColumn(reader, "slice");
        var jobs = new List<TraceJob>();
        var ids = new HashSet<long>();
        foreach (var row in reader)
        {
            if (TraceCsv.IsBlank(row, reader, path)) continue;
            var line = row.LineNumberFrom;
            if (!long.TryParse(row[id].Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var jobId))
                throw new DataFileException(path, line, "id", $"must be a whole number, not '{row[id].Span}'");
            if (!ids.Add(jobId)) throw new DataFileException(path, line, "id", $"duplicate id {jobId}");
            var topologyText = row[topology].ToString();
            var need = JobFieldRules.ParseTopology(topologyText)
                ?? throw new DataFileException(path, line, "topology", JobFieldRules.TopologyProblem(topologyText));
            var modelList = row[models].ToString().Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var run = (long)TraceCsv.Number(row, runtime, path, "runtimeSeconds", min: 1);
            var spec = new JobSpec(
                jobId,
                TraceCsv.Text(row, tenant, path, "tenant"),
                TraceCsv.Integer(row, gpus, path, "gpus", min: 1),
                modelList,
                need,
                (long)TraceCsv.Number(row, limit, path, "timeLimitSeconds", min: 1),
                TraceCsv.Integer(row, priority, path, "priority", int.MinValue + 1, fallback: 0),
                (long)TraceCsv.Number(row, submit, path, "submitSeconds", min: 0))
            {
                PriorityClass = Optional(row, priorityClass),
                Site = Optional(row, site),
                DataSite = Optional(row, dataSite),
                DataGb = Optional(row, dataGb) is null ? 0 : Checked(TraceCsv.Number(row, dataGb, path, "dataGb"), JobFieldRules.DataGbProblem, path, line, "dataGb"),
                CheckpointIntervalSeconds = Optional(row, checkpoint) is null ? 0
                    : (long)Checked(TraceCsv.Number(row, checkpoint, path, "checkpointSeconds"), JobFieldRules.CheckpointSecondsProblem, path, line, "checkpointSeconds"),
                CpusPerGpu = Optional(row, cpus) is null ? 0 : Checked(TraceCsv.Number(row, cpus, path, "cpusPerGpu"), JobFieldRules.PerGpuAmountProblem, path, line, "cpusPerGpu"),
                MemoryGbPerGpu = Optional(row, memory) is null ? 0
                    : Checked(TraceCsv.Number(row, memory, path, "memoryGbPerGpu"), JobFieldRules.PerGpuAmountProblem, path, line, "memoryGbPerGpu"),
                Slice = SliceOf(Optional(row, slice), path, line),
            };
            long? cancelAt = Optional(row, cancel) is null ? null : (long)TraceCsv.Number(row, cancel, path, "cancelSeconds", min: spec.SubmitTime);
            jobs.Add(new TraceJob(spec, run) { CancelAtSeconds = cancelAt });
        }
        return [.. jobs.OrderBy(j => j.Spec.SubmitTime).ThenBy(j => j.Spec.Id)];
    }

    // A number that passed its rule of JobFieldRules (the API applies the same rules).
    private static double Checked(double value, Func<double, string?> problem, string path, int line, string column) =>
        problem(value) is { } bad ? throw new DataFileException(path, line, column, bad) : value;

    // A slice cell by the rule the API applies too: empty is whole GPUs.
    private static SliceRequest? SliceOf(string? cell, string path, int line) =>
        JobFieldRules.ParseSlice(cell, out var problem) is var slice && problem is null ? slice : throw new DataFileException(path, line, "slice", problem);

    private static string? Optional(SepReader.Row row, int col) =>
        col < 0 || row[col].Span.Trim().IsEmpty ? null : row[col].ToString().Trim();

    /// <summary>Writes jobs in the native format.</summary>
    public static void Write(TextWriter writer, IEnumerable<TraceJob> jobs)
    {
        writer.WriteLine(FullHeader);
        var line = new StringBuilder();
        foreach (var job in jobs)
        {
            var s = job.Spec;
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{s.Id},{s.SubmitTime},{s.Tenant},{s.Gpus},{string.Join('|', s.Models)},{JobFieldRules.TopologyName(s.Topology)},{s.TimeLimitSeconds},{job.RuntimeSeconds},{s.Priority},");
            line.Append(CultureInfo.InvariantCulture, $"{s.PriorityClass},{s.Site},{s.DataSite},{(s.DataGb > 0 ? s.DataGb : "")},{(s.CheckpointIntervalSeconds > 0 ? s.CheckpointIntervalSeconds : "")},{job.CancelAtSeconds},");
            line.Append(CultureInfo.InvariantCulture, $"{(s.CpusPerGpu > 0 ? s.CpusPerGpu : "")},{(s.MemoryGbPerGpu > 0 ? s.MemoryGbPerGpu : "")},{JobFieldRules.SliceCell(s.Slice)}");
            writer.WriteLine(line);
        }
    }
}
