using GpuFleet.Core.Decisions;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// What a tenant's quota allows a job now: the class (the job's own, or the part of it on the models
/// allowed) or null with the reason, and whether it runs within the guarantee there (safe from reclaim).
/// </summary>
internal sealed record QuotaAnswer(long Version, JobClass? Class, bool Guaranteed, PendingReason Refusal);
