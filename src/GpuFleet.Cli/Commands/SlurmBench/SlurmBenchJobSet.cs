namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// The seeded job set of <c>gpufleet bench slurm</c>. Sizes, on nodes of 8 GPUs: 1, 2, 4 and 8 GPUs on one
/// node (85% of the jobs), 16 on two whole nodes (10%) and 12 (5%), which Slurm alone gets as two nodes of 6
/// and GpuFleet may place as 8 + 4 (a heterogeneous Slurm job). Run times are drawn evenly from the range
/// given; each limit is twice the run time rounded up to whole minutes, at least one.
/// <para>Example: runtimes 5–40 s give limits of 1 minute up to 30 s and 2 minutes above; a 12-GPU job
/// of 33 s is <c>sbatch -N 2 --gres=gpu:6 -t 2 --wrap "sleep 33"</c> for Slurm alone.</para>
/// <para>A size that does not fit the cluster (16 GPUs on one node, 12 that do not split evenly over
/// whole nodes) is left out of the mix; the same seed on the same cluster gives the same set.</para>
/// </summary>
internal static class SlurmBenchJobSet
{
    // Each size with its share of the jobs, in hundredths.
    private static readonly (int Gpus, int Weight)[] Mix = [(1, 25), (2, 20), (4, 20), (8, 20), (16, 10), (12, 5)];

    public static IReadOnlyList<SlurmBenchJob> Generate(int count, int seed, int runtimeMin, int runtimeMax, int gpusPerNode, int nodes)
    {
        var sizes = Mix.Select(m => (m.Gpus, m.Weight, Nodes: NodesFor(m.Gpus, gpusPerNode))).Where(m => m.Nodes is { } n && n <= nodes).ToList();
        if (sizes.Count == 0) throw new CliUsageException($"no job size of the mix (1, 2, 4, 8, 12, 16 GPUs) fits nodes of {gpusPerNode} GPUs");
        var total = sizes.Sum(s => s.Weight);
        var random = new Random(seed);
        var jobs = new List<SlurmBenchJob>(count);
        for (var i = 0; i < count; i++)
        {
            var draw = random.Next(total);
            var (gpus, _, n) = sizes.First(s => (draw -= s.Weight) < 0);
            var runtime = random.Next(runtimeMin, runtimeMax + 1);
            jobs.Add(new SlurmBenchJob(i, gpus, n!.Value, runtime, Math.Max(1, (2 * runtime + 59) / 60)));
        }
        return jobs;
    }

    // Nodes that hold the job in equal shares of whole GPUs; null when none do.
    private static int? NodesFor(int gpus, int gpusPerNode)
    {
        var nodes = (gpus + gpusPerNode - 1) / gpusPerNode;
        return gpus % nodes == 0 ? nodes : null;
    }
}
