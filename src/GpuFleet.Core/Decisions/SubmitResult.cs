namespace GpuFleet.Core.Decisions;

/// <summary>Whether a job was queued, and if not, why not.</summary>
public sealed record SubmitResult(long JobId, bool Accepted, string? Error)
{
    /// <summary>The job is queued.</summary>
    public static SubmitResult Queued(long id) => new(id, true, null);
    /// <summary>The job can never run on this fleet (or is malformed); it is not queued.</summary>
    public static SubmitResult Rejected(long id, string error) => new(id, false, error);
}
