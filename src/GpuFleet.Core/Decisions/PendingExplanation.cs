namespace GpuFleet.Core.Decisions;

/// <summary>A pending job's reason, the job it waits for (if any) and when it is expected to start (if known).</summary>
public sealed record PendingExplanation(long JobId, PendingReason Reason, long? BlockingJobId, long? EstimatedStart, string Message);
