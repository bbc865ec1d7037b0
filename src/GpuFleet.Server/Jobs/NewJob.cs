namespace GpuFleet.Server.Jobs;

/// <summary>A validated submission, before it has an id.</summary>
public sealed record NewJob(
    string Name,
    string Tenant,
    int Gpus,
    IReadOnlyList<string> Models,
    long TimeLimitSeconds,
    int Priority,
    string? PriorityClass,
    string? Command,
    long? RuntimeSeconds);
