using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Dashboard;

/// <summary>One job on the queue page: the stored job, since when it is in its state, and, pending, why it waits and when it should start.</summary>
internal sealed record QueueRow(StoredJob Job, DateTimeOffset? InStateSince, string? Reason, DateTimeOffset? EstimatedStart);
