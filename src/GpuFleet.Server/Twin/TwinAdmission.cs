namespace GpuFleet.Server.Twin;

/// <summary>The queue's answer to a new run: the run, queued; or why it was not (a limit reached), in words.</summary>
public sealed record TwinAdmission(TwinRun? Run, string? Refusal);
