namespace GpuFleet.Server.Api;

/// <summary>Body of <c>POST /api/v1/jobs</c>. Only <c>tenant</c>, <c>gpus</c> and <c>timeLimitSeconds</c> are required.</summary>
public sealed record SubmitJobRequest
{
    /// <summary>Free name (default: "job").</summary>
    public string? Name { get; init; }
    /// <summary>Tenant (a project of the tenant tree when the server has one).</summary>
    public string? Tenant { get; init; }
    /// <summary>GPUs of the gang.</summary>
    public int? Gpus { get; init; }
    /// <summary>Acceptable GPU models; empty or absent: any.</summary>
    public IReadOnlyList<string>? Models { get; init; }
    /// <summary>Wall-time limit.</summary>
    public long? TimeLimitSeconds { get; init; }
    /// <summary>Priority within the tenant (default 0).</summary>
    public int? Priority { get; init; }
    /// <summary>Priority class of the tenant tree.</summary>
    public string? PriorityClass { get; init; }
    /// <summary>What to run (kept and shown; the simulated executor does not run it).</summary>
    public string? Command { get; init; }
    /// <summary>How long the job really runs, for the simulated executor (default: drawn from its limit).</summary>
    public long? RuntimeSeconds { get; init; }
}
