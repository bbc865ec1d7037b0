using GpuFleet.Core.Workloads;

namespace GpuFleet.Data.Traces;

/// <summary>
/// Reads the Acme (Shanghai AI Lab) Kalos sample in its converted simulator form (CC BY 4.0): GPUs =
/// <c>gpu_workers × gpu_per_worker</c>, run time = <c>num_iteration × 0.5</c> s, submit = <c>arrival_time</c>.
/// Pretraining jobs (<c>profiled_network = 1000</c>) and the rest (SFT and other) become two tenants.
/// </summary>
public static class KalosTraceReader
{
    /// <summary>The first header columns that identify the format.</summary>
    public const string HeaderStart = "job_id,arrival_time,num_iteration";

    /// <summary>Reads a converted Kalos file (plain or gzip).</summary>
    public static IReadOnlyList<TraceJob> Read(string path)
    {
        using var text = TraceCsv.Open(path);
        using var reader = TraceCsv.Reader(text, path);
        int arrival = TraceCsv.Column(reader, path, "arrival_time"), iters = TraceCsv.Column(reader, path, "num_iteration"),
            workers = TraceCsv.Column(reader, path, "gpu_workers"), perWorker = TraceCsv.Column(reader, path, "gpu_per_worker"),
            network = TraceCsv.Column(reader, path, "profiled_network");
        var rows = new List<TraceRow>();
        foreach (var row in reader)
        {
            if (TraceCsv.IsBlank(row, reader, path)) continue;
            var gpus = TraceCsv.Integer(row, workers, path, "gpu_workers", min: 1) * (int)TraceCsv.Number(row, perWorker, path, "gpu_per_worker", min: 1);
            var runtime = Math.Max(1L, (long)(TraceCsv.Number(row, iters, path, "num_iteration", min: 0) * 0.5));
            var tenant = TraceCsv.Number(row, network, path, "profiled_network") >= 1000 ? "kalos-pretrain" : "kalos-finetune";
            rows.Add(new TraceRow((long)TraceCsv.Number(row, arrival, path, "arrival_time", min: 0), runtime, gpus, tenant, row.LineNumberFrom));
        }
        return TraceCsv.Number(rows);
    }
}
