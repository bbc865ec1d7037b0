using System.Text.Json.Serialization;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Server.Api;

/// <summary>
/// A job's <c>slice</c> in the API, as submitted and as shown: <c>{ "migProfile": "1g.23gb" }</c>, or
/// <c>{ "gpuFraction": 0.25, "gpuMemoryGb": 20 }</c> (a quarter of a GPU's time with 20 GB of its memory).
/// Absent or null: whole GPUs. A field not listed here is refused by name, as in the request around it.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record JobSlice
{
    /// <summary>A MIG profile of the fleet's models (<c>1g.23gb</c>); not with the other two.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MigProfile { get; init; }

    /// <summary>Share of the GPU's compute, above 0 and below 1; with <see cref="GpuMemoryGb"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? GpuFraction { get; init; }

    /// <summary>Device memory the job needs, in GB, above 0; with <see cref="GpuFraction"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? GpuMemoryGb { get; init; }

    /// <summary>The slice as the core takes it, or what is wrong with its shape (both forms, or half of one).</summary>
    public (SliceRequest? Slice, string? Problem) ToRequest() => (MigProfile, GpuFraction, GpuMemoryGb) switch
    {
        ({ } profile, null, null) => (new SliceRequest(profile, 0, 0), null),
        (null, { } fraction, { } memory) => (new SliceRequest(null, fraction, memory), null),
        (not null, _, _) => (null, "give migProfile, or gpuFraction with gpuMemoryGb, not both"),
        _ => (null, "needs migProfile, or gpuFraction with gpuMemoryGb"),
    };

    /// <summary>How the API shows a job's slice; null for whole GPUs.</summary>
    public static JobSlice? Of(SliceRequest? slice) => slice switch
    {
        null => null,
        { MigProfile: { } profile } => new JobSlice { MigProfile = profile },
        _ => new JobSlice { GpuFraction = slice.GpuFraction, GpuMemoryGb = slice.GpuMemoryGb },
    };
}
