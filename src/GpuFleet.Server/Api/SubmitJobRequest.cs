using System.Text.Json.Serialization;

namespace GpuFleet.Server.Api;

/// <summary>
/// Body of <c>POST /api/v1/jobs</c> (and each element of a batch). Only <c>tenant</c>, <c>gpus</c> and
/// <c>timeLimitSeconds</c> are required. Numbers must be JSON numbers (<c>"gpus": "8"</c> is refused);
/// text must hold no control characters; a field not listed here is refused by name (a misspelt
/// <c>timeLimitSecond</c> would otherwise be dropped, and the job run without what it asked for).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SubmitJobRequest
{
    /// <summary>Free name, at most 200 characters (default: "job").</summary>
    public string? Name { get; init; }
    /// <summary>Tenant (a project of the tenant tree when the server has one), at most 200 characters.</summary>
    public string? Tenant { get; init; }
    /// <summary>GPUs of the gang: 1 to the fleet's size.</summary>
    public int? Gpus { get; init; }
    /// <summary>Acceptable GPU models, at most 64 names of the fleet's models; empty or absent: any.</summary>
    public IReadOnlyList<string>? Models { get; init; }
    /// <summary>Wall-time limit: 1 s to a year.</summary>
    public long? TimeLimitSeconds { get; init; }
    /// <summary>Priority within the tenant: -1,000,000 to 1,000,000 (default 0); higher runs first.</summary>
    public int? Priority { get; init; }
    /// <summary>Priority class of the tenant tree.</summary>
    public string? PriorityClass { get; init; }
    /// <summary>What to run, at most 8,192 characters; tabs and newlines allowed (kept and shown; the simulated executor does not run it).</summary>
    public string? Command { get; init; }
    /// <summary>How long the job really runs, for the simulated executor: 1 s to a year (default: drawn from its limit).</summary>
    public long? RuntimeSeconds { get; init; }
    /// <summary>Widest span allowed: <c>site</c> (default), <c>node</c>, <c>domain</c> or <c>anywhere</c> (may span sites).</summary>
    public string? Topology { get; init; }
    /// <summary>Site the job must run at, a site of the fleet; absent: any.</summary>
    public string? Site { get; init; }
    /// <summary>Site where the job's input data lives, a site of the fleet; other sites come after it, fastest route first.</summary>
    public string? DataSite { get; init; }
    /// <summary>Size of that data in GB, 0 or more (default 0).</summary>
    public double? DataGb { get; init; }
    /// <summary>
    /// How often the job checkpoints, whole seconds, 0 or more (default 0: it does not, and an eviction
    /// loses all its work). Read as any number, so that a fraction is refused by the trace reader's rule, in its words.
    /// </summary>
    public double? CheckpointSeconds { get; init; }
    /// <summary>CPU cores for each GPU (or each slice), on the node that GPU is on; finite, 0 or more (default 0: not asked). Not with <see cref="Cpus"/>.</summary>
    public double? CpusPerGpu { get; init; }
    /// <summary>Memory in GB for each GPU (or each slice), on its node; finite, 0 or more (default 0). Not with <see cref="MemoryGb"/>.</summary>
    public double? MemoryGbPerGpu { get; init; }
    /// <summary>CPU cores for the whole job, spread evenly over its GPUs (stored as <see cref="CpusPerGpu"/> = cpus / gpus).</summary>
    public double? Cpus { get; init; }
    /// <summary>Memory in GB for the whole job, spread evenly over its GPUs (stored as <see cref="MemoryGbPerGpu"/> = memoryGb / gpus).</summary>
    public double? MemoryGb { get; init; }
    /// <summary>Part of a GPU for each member of the gang (then <see cref="Gpus"/> counts slices, all on one node); absent: whole GPUs.</summary>
    public JobSlice? Slice { get; init; }
}
