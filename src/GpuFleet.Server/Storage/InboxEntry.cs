using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Storage;

/// <summary>
/// What the scheduler must take up: a job submitted or cancelled through any replica, with the job as
/// stored now (a job cancelled before the scheduler saw it arrives already cancelled).
/// </summary>
public sealed record InboxEntry(long Seq, InboxKind Kind, StoredJob Job);
