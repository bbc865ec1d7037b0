namespace GpuFleet.Core.Decisions;

/// <summary>Whether a job was queued, and if not, why not.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Accepted">Whether it is queued.</param>
/// <param name="Error">Why not, naming the field at fault.</param>
/// <param name="ExceedsGuarantee">Refused only because it is larger than its tenant's whole guarantee under a policy that never lends (static partitions).</param>
public sealed record SubmitResult(long JobId, bool Accepted, string? Error, bool ExceedsGuarantee = false)
{
    /// <summary>The job is queued.</summary>
    public static SubmitResult Queued(long id) => new(id, true, null);
    /// <summary>The job can never run on this fleet (or is malformed); it is not queued.</summary>
    public static SubmitResult Rejected(long id, string error) => new(id, false, error);
}
