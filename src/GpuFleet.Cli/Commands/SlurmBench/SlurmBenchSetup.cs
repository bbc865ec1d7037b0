using System.Diagnostics;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>What every variant of <c>gpufleet bench slurm</c> shares: the cluster, its nodes, the job set, where Slurm records ends, and the limits.</summary>
/// <param name="Cluster">The cluster.</param>
/// <param name="Nodes">The nodes the bench uses, each with its GPUs.</param>
/// <param name="OtherNodes">The partition's other nodes, which Slurm alone is told to leave out.</param>
/// <param name="Partition">The partition (null: the cluster's default).</param>
/// <param name="JobCompPath">Slurm's <c>jobcomp/filetxt</c> file.</param>
/// <param name="Jobs">The job set.</param>
/// <param name="NamePrefix">What the names of this run's Slurm-alone jobs begin with (unique to the run).</param>
/// <param name="Timeout">How long one variant may take from its first submission.</param>
/// <param name="IdleTimeout">How long a variant waits for the bench's nodes to be idle before it starts anyway.</param>
internal sealed record SlurmBenchSetup(SlurmCluster Cluster, IReadOnlyList<(string Name, int Gpus)> Nodes, IReadOnlyList<string> OtherNodes, string? Partition,
    string JobCompPath, IReadOnlyList<SlurmBenchJob> Jobs, string NamePrefix, TimeSpan Timeout, TimeSpan IdleTimeout)
{
    /// <summary>Progress, on stderr.</summary>
    public static void Say(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

    /// <summary>
    /// Waits until none of <paramref name="ours"/> is left in Slurm and no job holds a GPU of the bench's nodes,
    /// for at most <see cref="IdleTimeout"/>; answers whether it got there (the variant runs either way, and says so).
    /// </summary>
    public async Task<bool> WaitIdleAsync(Func<string, bool> ours, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        var names = Nodes.Select(n => n.Name).ToList();
        while (true)
        {
            var (idle, busy) = await Cluster.IdleAsync(ours, names, cancel);
            if (idle) return true;
            if (watch.Elapsed > IdleTimeout)
            {
                Say($"warning: the bench's nodes are not idle after {IdleTimeout.TotalSeconds:F0} s ({busy}); starting anyway");
                return false;
            }
            await Task.Delay(500, cancel);
        }
    }

    /// <summary>
    /// Waits until Slurm has recorded the end of every job named in <paramref name="names"/>; then answers the records.
    /// Fails after <see cref="Timeout"/> from <paramref name="since"/>, naming what is missing.
    /// </summary>
    public async Task<IReadOnlyList<JobCompRecord>> WaitRecordedAsync(IReadOnlySet<string> names, DateTimeOffset since, CancellationToken cancel)
    {
        var lastSaid = -1;
        while (true)
        {
            var records = Read(names);
            var done = records.Select(r => r.Name).Distinct().Count();
            if (done >= names.Count) return records;
            if (done / 25 != lastSaid / 25 || lastSaid < 0)
            {
                Say($"  {done}/{names.Count} jobs ended");
                lastSaid = done;
            }
            if (DateTimeOffset.Now - since > Timeout)
            {
                var missing = names.Except(records.Select(r => r.Name)).Order(StringComparer.Ordinal).ToList();
                var queue = (await Cluster.QueueAsync(cancel)).Where(j => names.Contains(j.Name)).ToDictionary(j => j.Name, j => j.State);
                throw new CliUsageException($"not every job ended within {Timeout.TotalSeconds:F0} s (--timeout): {missing.Count} missing from {JobCompPath}, e.g. " +
                    string.Join(", ", missing.Take(5).Select(n => $"{n} ({queue.GetValueOrDefault(n, "not in squeue")})")));
            }
            await Task.Delay(1000, cancel);
        }
    }

    /// <summary>Slurm's records of the jobs named in <paramref name="names"/>.</summary>
    public IReadOnlyList<JobCompRecord> Read(IReadOnlySet<string> names) => SlurmBench.JobCompLog.Read(JobCompPath, names.Contains);

    /// <summary>Each job that does not have exactly one record, COMPLETED, in words.</summary>
    public static List<string> Problems(IEnumerable<string> names, IReadOnlyList<JobCompRecord> records)
    {
        var byName = records.ToLookup(r => r.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var name in names)
        {
            var runs = byName[name].ToList();
            if (runs.Count != 1) problems.Add($"{name}: {runs.Count} runs recorded");
            else if (runs[0].State != "COMPLETED" || runs[0].Start is null) problems.Add($"{name}: {runs[0].State}");
        }
        return problems;
    }
}
