namespace GpuFleet.Core.Decisions;

/// <summary>Start job <see cref="JobId"/> now on these GPUs. The whole gang is in one decision.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Model">Index of the GPU model it runs on.</param>
/// <param name="Site">Index of the site it runs at (the first one, for a job that may span sites).</param>
/// <param name="Gpus">The GPUs, node by node.</param>
/// <param name="Backfilled">True when it started ahead of a reserved job, without delaying it.</param>
public sealed record PlacementDecision(long JobId, int Model, int Site, GpuAllocation[] Gpus, bool Backfilled)
{
    /// <summary>Seconds to wait before starting: the grace time of the jobs evicted for it (0 when none were).</summary>
    public long StartDelaySeconds { get; init; }

    /// <summary>Whether it runs beyond its tenant's guarantee (or at best-effort): its GPUs may be reclaimed.</summary>
    public bool Borrowed { get; init; }

    /// <summary>For a job of GPU slices, each slice (<see cref="Gpus"/> then names the GPUs they are on); null: whole GPUs.</summary>
    public IReadOnlyList<SlicePlacement>? Slices { get; init; }

    /// <summary>GPU-equivalents it holds: whole GPUs, or the slices' shares of compute.</summary>
    public double GpuEquivalents => Slices is null ? Gpus.Sum(g => g.Count) : Slices.Sum(s => s.Fraction);
}
