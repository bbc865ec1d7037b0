namespace GpuFleet.Server.Jobs;

/// <summary>One entry of a job's state history.</summary>
public sealed record JobEvent(DateTimeOffset At, JobState State, string? Detail);
