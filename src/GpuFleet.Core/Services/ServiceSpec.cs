using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Services;

/// <summary>
/// An inference service: replicas of one shape that run until the service is deleted, as many as its
/// request rate needs (see <see cref="ServiceScaler"/>), never fewer than <see cref="MinReplicas"/> nor more
/// than <see cref="MaxReplicas"/>.
/// </summary>
/// <param name="Name">Unique name (the id in the API and the CLI).</param>
/// <param name="Tenant">Who runs it and is charged.</param>
/// <param name="GpusPerReplica">GPUs of one replica (or slices, with <see cref="Slice"/>).</param>
/// <param name="MinReplicas">Replicas kept even with no requests (0 or more).</param>
/// <param name="MaxReplicas">Most replicas (at least 1 and at least <see cref="MinReplicas"/>).</param>
/// <param name="RequestsPerSecondPerReplica">What one replica serves at full load.</param>
/// <param name="TargetUtilization">Share of that capacity the scaler aims for (in (0, 1]): headroom for bursts.</param>
public sealed record ServiceSpec(
    string Name,
    string Tenant,
    int GpusPerReplica,
    int MinReplicas,
    int MaxReplicas,
    double RequestsPerSecondPerReplica,
    double TargetUtilization)
{
    /// <summary>Acceptable GPU models of a replica; empty: any.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
    /// <summary>Part of a GPU per replica member; null: whole GPUs.</summary>
    public SliceRequest? Slice { get; init; }
    /// <summary>CPU cores per GPU (or slice) of a replica.</summary>
    public double CpusPerGpu { get; init; }
    /// <summary>Memory in GB per GPU (or slice) of a replica.</summary>
    public double MemoryGbPerGpu { get; init; }
    /// <summary>Priority class of its replicas (null: the tree's default). A class above training's may evict the tenant's preemptible training to scale up.</summary>
    public string? PriorityClass { get; init; }
    /// <summary>Region its users are in (a site's region); null: anywhere.</summary>
    public string? Region { get; init; }
    /// <summary>Most one-way network latency from <see cref="Region"/> to a replica's site, in ms; null: no budget.</summary>
    public double? LatencyBudgetMs { get; init; }
    /// <summary>
    /// Replicas kept placed and started beyond those its rate needs (0: none), serving nothing until it needs them:
    /// a scale-up then has a replica at once instead of waiting for GPUs to free (a reclaim's grace, a MIG layout
    /// change), and a standby replica is asked for again in its place. They hold GPUs the whole time; reports count them.
    /// Only rate-driven scaling keeps them: a service scaled by hand runs exactly the replicas it was given.
    /// </summary>
    public int StandbyReplicas { get; init; }
}
