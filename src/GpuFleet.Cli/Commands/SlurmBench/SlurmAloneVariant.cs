using System.Globalization;
using System.Text.Json.Nodes;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// A variant without GpuFleet: every job of the set handed to Slurm with <c>sbatch</c>, one after another in the
/// set's order (Slurm's first-in-first-out priority then ranks them as GpuFleet's submission order does), and
/// measured from Slurm's own records of each job's submission, start and end.
/// </summary>
/// <remarks>
/// Each job asks for what a user would: <c>-N nodes --gres=gpu:per-node -t minutes --wrap "sleep S"</c>,
/// named <c>&lt;prefix&gt;&lt;variant&gt;-&lt;index&gt;</c>, its output discarded; on a partition larger than the
/// bench's nodes, the other nodes are excluded (<c>-x</c>). Whatever of it is left in Slurm afterwards
/// (a failure, an interruption) is cancelled by that name.
/// </remarks>
internal static class SlurmAloneVariant
{
    public static async Task<VariantResult> RunAsync(SlurmBenchSetup setup, string variant, string? schedulerParameters, CancellationToken cancel)
    {
        var prefix = $"{setup.NamePrefix}{variant}-";
        bool Ours(string name) => name.StartsWith(prefix, StringComparison.Ordinal);
        try
        {
            var idle = await setup.WaitIdleAsync(Ours, cancel);
            var names = setup.Jobs.ToDictionary(j => j.Index, j => prefix + j.Index.ToString("D4", CultureInfo.InvariantCulture));
            SlurmBenchSetup.Say($"{variant}: submitting {setup.Jobs.Count} jobs with sbatch");
            var first = DateTimeOffset.Now;
            foreach (var job in setup.Jobs)
            {
                List<string> args = ["--parsable", "-J", names[job.Index], "-o", "/dev/null", "-t", job.TimeLimitMinutes.ToString(CultureInfo.InvariantCulture),
                    "-N", job.Nodes.ToString(CultureInfo.InvariantCulture), $"--gres=gpu:{job.GpusPerNode}"];
                if (setup.Partition is not null) args.AddRange(["-p", setup.Partition]);
                if (setup.OtherNodes.Count > 0) args.AddRange(["-x", HostList.Compress(setup.OtherNodes)]);
                args.AddRange(["--wrap", job.Command]);
                await setup.Cluster.RunAsync("sbatch", args, cancel);
            }
            var submitSeconds = (DateTimeOffset.Now - first).TotalSeconds;
            SlurmBenchSetup.Say($"{variant}: submitted in {submitSeconds:F1} s; waiting for the ends");
            var wanted = names.Values.ToHashSet(StringComparer.Ordinal);
            var records = await setup.WaitRecordedAsync(wanted, first, cancel);
            var ran = records.Where(r => r.Start is not null).Select(r => (r.Submit, r.Start!.Value, r.End)).ToList();
            var indexOf = names.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
            var timings = records.Select(r => new JobTiming(indexOf[r.Name], r.Submit, r.Start, r.End, null, null, HostList.Compress(r.Nodes))).OrderBy(t => t.Index).ToList();
            var detail = new JsonObject
            {
                ["schedulerParameters"] = schedulerParameters ?? "none (Slurm defaults)",
                ["submitSeconds"] = Math.Round(submitSeconds, 2),
                ["idleAtStart"] = idle,
            };
            return new VariantResult(variant, RunFigures.Of(ran), detail, SlurmBenchSetup.Problems(wanted, records), timings);
        }
        finally
        {
            await setup.Cluster.CancelAsync(Ours, CancellationToken.None);
        }
    }
}
