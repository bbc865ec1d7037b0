using GpuFleet.Core.Workloads;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Api;

/// <summary>A job as the API shows it: every field it was submitted with (defaults filled in), and where it is now.</summary>
public sealed record JobView(
    long Id,
    string Name,
    string Tenant,
    int Gpus,
    IReadOnlyList<string> Models,
    long TimeLimitSeconds,
    int Priority,
    string? PriorityClass,
    string? Command,
    string Topology,
    string? Site,
    string? DataSite,
    double DataGb,
    long CheckpointSeconds,
    double CpusPerGpu,
    double MemoryGbPerGpu,
    JobSlice? Slice,
    string State,
    DateTimeOffset SubmittedAt,
    string? Placement,
    string? Detail)
{
    /// <summary>Why it waits (pending jobs only).</summary>
    public string? PendingReason { get; init; }
    /// <summary>The same in words.</summary>
    public string? PendingMessage { get; init; }
    /// <summary>Earliest start from a test-only placement (pending jobs only).</summary>
    public DateTimeOffset? EstimatedStart { get; init; }
    /// <summary>State changes, oldest first (single-job answers only).</summary>
    public IReadOnlyList<JobEvent>? History { get; init; }
    /// <summary>GPU-seconds charged so far, as usage reports count them (single-job answers only).</summary>
    public double? GpuSeconds { get; init; }
    /// <summary>
    /// A running job whose cluster has accepted its run but not started it: since when, and why in the cluster's
    /// words, as its site lists it (single-job answers only; null once started, and at a simulated site).
    /// </summary>
    public Execution.WaitingRun? WaitingInCluster { get; init; }
    /// <summary>Every node of <see cref="Placement"/> with the GPUs held on it (single-job answers only).</summary>
    public IReadOnlyList<NodeView>? Nodes { get; init; }

    /// <summary>For a job of GPU slices once placed, the slices of its latest placement: node, GPU, MIG profile and start (null for a time-shared share), fraction, memory.</summary>
    public IReadOnlyList<PlacedSlice>? Slices { get; init; }

    /// <summary>The view of a stored job.</summary>
    public static JobView Of(StoredJob j) => new(j.Id, j.Spec.Name, j.Tenant, j.Spec.Gpus, j.Spec.Models, j.Spec.TimeLimitSeconds, j.Spec.Priority,
        j.Spec.PriorityClass, j.Spec.Command, JobFieldRules.TopologyName(j.Spec.Topology), j.Spec.Site, j.Spec.DataSite, j.Spec.DataGb,
        j.Spec.CheckpointSeconds, j.Spec.CpusPerGpu, j.Spec.MemoryGbPerGpu, JobSlice.Of(j.Spec.Slice), j.State.ToString().ToLowerInvariant(), j.SubmittedAt, j.Placement, j.Detail)
        {
            // Shares to 4 places (1/7 → 0.1429); usage charges them unrounded.
            Slices = j.Slices?.Select(s => s with { Fraction = Math.Round(s.Fraction, 4) }).ToList(),
        };
}
