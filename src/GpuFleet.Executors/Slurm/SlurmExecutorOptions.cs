namespace GpuFleet.Executors.Slurm;

/// <summary>How a <see cref="SlurmExecutor"/> reaches its cluster and what it adds to each submission.</summary>
/// <param name="Partition">The partition GpuFleet's jobs run in (<c>sbatch -p</c>); it also limits what the executor observes and inventories. Null: the cluster's default partition, and every node.</param>
/// <param name="SlurmConf">The cluster's <c>slurm.conf</c>, passed to the tools as <c>SLURM_CONF</c>; null: the tools' own default.</param>
/// <param name="ExtraSbatchArguments">Added to every <c>sbatch</c> after GpuFleet's own options (e.g. <c>--qos=gpufleet</c>, <c>--mem-per-gpu=64G</c>). In a heterogeneous job they belong to its first component, as sbatch reads them.</param>
/// <param name="CheckpointGraceSeconds">
/// How long before its time limit a running job is asked to checkpoint (SIGUSR1, as <see cref="ExecutorSignal.Checkpoint"/>);
/// 0: never. The executor sends it itself when it observes a job that close to its limit, because Slurm's own
/// <c>--signal=USR1@T</c> reaches only job steps or the batch shell, not the processes of a wrapped command.
/// </param>
/// <param name="ToolDirectory">Where <c>sbatch</c>, <c>squeue</c>, <c>sinfo</c>, <c>sacct</c> and <c>scancel</c> are; null: found on <c>PATH</c>.</param>
/// <param name="UseTenantAsAccount">Submit with <c>--account=&lt;tenant&gt;</c>. Off by default: accounts exist only where slurmdbd runs and has them. The tenant is always in <c>--comment</c>.</param>
/// <param name="OutputDirectory">Where a job's output goes, as <c>&lt;dir&gt;/&lt;run name&gt;.out</c> (<c>gpufleet-&lt;id&gt;.out</c>) (appended, so that a run again keeps the earlier output); null: <c>/dev/null</c>. It must exist on the nodes.</param>
/// <param name="ToolTimeoutSeconds">How long one tool may take before the cluster counts as unreachable (the tools retry for about 10 s themselves).</param>
/// <param name="Installation">The GpuFleet installation whose runs these are (<see cref="RunNames"/>): they are named <c>gpufleet-&lt;installation&gt;-&lt;id&gt;</c>, and runs of other installations are left alone. Null: <c>gpufleet-&lt;id&gt;</c>.</param>
public sealed record SlurmExecutorOptions(
    string? Partition = null,
    string? SlurmConf = null,
    IReadOnlyList<string>? ExtraSbatchArguments = null,
    int CheckpointGraceSeconds = 0,
    string? ToolDirectory = null,
    bool UseTenantAsAccount = false,
    string? OutputDirectory = null,
    int ToolTimeoutSeconds = 60,
    string? Installation = null)
{
    /// <summary>
    /// Shards of each GPU in the cluster's <c>gres.conf</c> (<c>Name=shard Count=</c> this × the node's GPUs): a time-shared
    /// share of a GPU asks for its fraction of them, rounded up (0.25 → <c>--gres=shard:25</c> with the default 100).
    /// </summary>
    public int ShardsPerGpu { get; init; } = DefaultShardsPerGpu;

    /// <summary>Shards per GPU unless the site says otherwise: a share then reads in percent of the GPU.</summary>
    public const int DefaultShardsPerGpu = 100;
}
