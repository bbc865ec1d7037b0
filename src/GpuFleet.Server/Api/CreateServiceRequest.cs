using System.Text.Json.Serialization;

namespace GpuFleet.Server.Api;

/// <summary>
/// Body of <c>POST /api/v1/services</c>: an inference service (docs/services.md). <c>name</c>, <c>tenant</c>
/// (a tenant's token may leave it out: its own), <c>maxReplicas</c> and <c>requestsPerSecondPerReplica</c> are
/// required. Numbers must be JSON numbers; a field not listed here is refused by name.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateServiceRequest
{
    /// <summary>Unique name: letters, digits, <c>.</c>, <c>_</c> and <c>-</c>, at most 63 characters (it is part of paths).</summary>
    public string? Name { get; init; }
    /// <summary>Who runs it and is charged (a project of the tenant tree when the server has one).</summary>
    public string? Tenant { get; init; }
    /// <summary>GPUs (or slices) of one replica, all on one node (default 1).</summary>
    public int? GpusPerReplica { get; init; }
    /// <summary>Replicas kept even with no requests (default 0).</summary>
    public int? MinReplicas { get; init; }
    /// <summary>Most replicas (at least 1 and at least <see cref="MinReplicas"/>).</summary>
    public int? MaxReplicas { get; init; }
    /// <summary>What one replica serves at full load.</summary>
    public double? RequestsPerSecondPerReplica { get; init; }
    /// <summary>Share of that the scaler aims for, in (0, 1] (default 1).</summary>
    public double? TargetUtilization { get; init; }
    /// <summary>Acceptable GPU models; empty or absent: any.</summary>
    public IReadOnlyList<string>? Models { get; init; }
    /// <summary>Part of a GPU per replica member, as for jobs.</summary>
    public JobSlice? Slice { get; init; }
    /// <summary>CPU cores per GPU (or slice) of a replica.</summary>
    public double? CpusPerGpu { get; init; }
    /// <summary>Memory in GB per GPU (or slice) of a replica.</summary>
    public double? MemoryGbPerGpu { get; init; }
    /// <summary>Priority class of its replicas.</summary>
    public string? PriorityClass { get; init; }
    /// <summary>Region its users are in (a site's region).</summary>
    public string? Region { get; init; }
    /// <summary>Most one-way latency from the region to a replica's site, in ms (needs <see cref="Region"/>).</summary>
    public double? LatencyBudgetMs { get; init; }
    /// <summary>Replicas held placed and started beyond those the rate needs, serving nothing until it does (default 0).</summary>
    public int? StandbyReplicas { get; init; }
    /// <summary>An http(s) URL answering a Prometheus instant query whose first sample is the request rate; scraped by the leader every 15 s.</summary>
    public string? PrometheusQueryUrl { get; init; }
}
