namespace GpuFleet.Server.Jobs;

/// <summary>A job as the database holds it: what was submitted, and where it is now.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Spec">The submission.</param>
/// <param name="State">Its state.</param>
/// <param name="SubmittedAt">When it was accepted.</param>
/// <param name="Placement">Where it runs or ran, in words.</param>
/// <param name="Detail">The last state change's reason.</param>
public sealed record StoredJob(long Id, NewJob Spec, JobState State, DateTimeOffset SubmittedAt, string? Placement, string? Detail)
{
    /// <summary>The tenant it belongs to.</summary>
    public string Tenant => Spec.Tenant;
}
