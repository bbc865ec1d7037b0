namespace GpuFleet.Core.Workloads;

/// <summary>
/// What the scheduler knows of a job. Its real run time is not here: the scheduler plans with
/// <see cref="TimeLimitSeconds"/>, as Slurm does with a wall-time limit.
/// </summary>
/// <param name="Id">Unique job id.</param>
/// <param name="Tenant">Who submits and is charged.</param>
/// <param name="Gpus">GPUs asked for; the job is a gang (all or nothing).</param>
/// <param name="Models">Acceptable GPU models; empty means any. A gang always runs on one model.</param>
/// <param name="Topology">How far the job may spread.</param>
/// <param name="TimeLimitSeconds">Wall-time limit; the job is stopped when it is reached.</param>
/// <param name="Priority">Higher runs first among a tenant's jobs (and in the submit-order policies).</param>
/// <param name="SubmitTime">Submission time, in seconds on the scheduler's clock.</param>
public sealed record JobSpec(
    long Id,
    string Tenant,
    int Gpus,
    IReadOnlyList<string> Models,
    TopologyNeed Topology,
    long TimeLimitSeconds,
    int Priority,
    long SubmitTime)
{
    /// <summary>Priority class by name (see <see cref="Tenancy.PriorityClass"/>); null: the tree's default.</summary>
    public string? PriorityClass { get; init; }

    /// <summary>Site the job must run at; null: any site that has an acceptable model.</summary>
    public string? Site { get; init; }

    /// <summary>
    /// Sites the job may run at, most preferred first (an inference replica: the sites of its users' region,
    /// then the others within its latency budget, nearest first); null: any site. It is placed at the first
    /// site of the list that has room, as a job with a data site is placed at that site first. Not with
    /// <see cref="Site"/>.
    /// </summary>
    public IReadOnlyList<string>? Sites { get; init; }

    /// <summary>Site where the job's input data lives; other sites are chosen only after it, nearest link first.</summary>
    public string? DataSite { get; init; }

    /// <summary>Size of the input data, for the transfer time to another site.</summary>
    public double DataGb { get; init; }

    /// <summary>How often the job checkpoints; 0: it does not, and an eviction loses all its work.</summary>
    public long CheckpointIntervalSeconds { get; init; }

    /// <summary>CPU cores for each GPU (or each slice) of the job, on the node that GPU is on.</summary>
    public double CpusPerGpu { get; init; }

    /// <summary>Memory in GB for each GPU (or each slice) of the job, on the node that GPU is on.</summary>
    public double MemoryGbPerGpu { get; init; }

    /// <summary>Part of a GPU per member of the gang; null: whole GPUs.</summary>
    public SliceRequest? Slice { get; init; }

    /// <summary>GPU-equivalents the job asks for as stated: its GPUs, or its slices' fractions (see <see cref="SliceRequest.StatedGpus"/>).</summary>
    public double StatedGpus => Slice?.StatedGpus(Gpus) ?? Gpus;
}
