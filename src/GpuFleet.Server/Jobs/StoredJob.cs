namespace GpuFleet.Server.Jobs;

/// <summary>A job as the database holds it: what was submitted, and where it is now.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Spec">The submission.</param>
/// <param name="State">Its state.</param>
/// <param name="SubmittedAt">When it was accepted.</param>
/// <param name="Placement">Where it runs or ran, in words.</param>
/// <param name="Detail">The last state change's reason.</param>
/// <param name="Slices">For a job of GPU slices that was placed, the slices of its latest placement; null otherwise.</param>
public sealed record StoredJob(long Id, NewJob Spec, JobState State, DateTimeOffset SubmittedAt, string? Placement, string? Detail, IReadOnlyList<PlacedSlice>? Slices = null)
{
    /// <summary>The tenant it belongs to.</summary>
    public string Tenant => Spec.Tenant;

    /// <summary>GPU-equivalents it holds while it runs, as usage charges them: its slices' shares of compute, or its whole GPUs.</summary>
    public double GpuEquivalents => GpuEquivalentsOf(Spec.Gpus, Slices);

    /// <summary>GPU-equivalents of a job of <paramref name="gpus"/> with these slices (null: whole GPUs).</summary>
    public static double GpuEquivalentsOf(int gpus, IReadOnlyList<PlacedSlice>? slices) => slices is null ? gpus : slices.Sum(s => s.Fraction);
}
