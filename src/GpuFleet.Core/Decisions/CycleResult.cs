namespace GpuFleet.Core.Decisions;

/// <summary>What one scheduling cycle decided.</summary>
/// <param name="Time">The cycle's time on the scheduler's clock.</param>
/// <param name="Placements">Jobs to start now.</param>
/// <param name="Reservation">The reservation made for the first blocked job, if any.</param>
/// <param name="PlacementAttempts">Jobs the cycle tried to place (class skips not counted).</param>
/// <param name="Pending">Jobs still waiting after the cycle.</param>
/// <param name="Preemptions">Running jobs evicted this cycle (they are queued again), each with who gained its GPUs.</param>
public sealed record CycleResult(long Time, IReadOnlyList<PlacementDecision> Placements, Reservation? Reservation, int PlacementAttempts, int Pending,
    IReadOnlyList<PreemptionDecision> Preemptions);
