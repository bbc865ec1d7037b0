namespace GpuFleet.Server.Jobs;

/// <summary>A job as the database holds it.</summary>
public sealed record StoredJob(
    long Id,
    string Name,
    string Tenant,
    int Gpus,
    IReadOnlyList<string> Models,
    long TimeLimitSeconds,
    int Priority,
    string? PriorityClass,
    string? Command,
    long? RuntimeSeconds,
    JobState State,
    DateTimeOffset SubmittedAt,
    string? Placement,
    string? Detail);
