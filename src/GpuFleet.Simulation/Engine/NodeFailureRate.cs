namespace GpuFleet.Simulation.Engine;

/// <summary>
/// Random node failures: each node, once up, runs an exponentially distributed time of mean
/// <paramref name="MtbfHours"/> until it fails, and is down for exactly <paramref name="RepairHours"/>. The
/// draws depend on the seed and the node alone — never on what the scheduler does — so every policy run
/// with the same seed meets the same failures.
/// </summary>
/// <param name="MtbfHours">Mean up time of a node between a repair (or the start) and its next failure.</param>
/// <param name="RepairHours">Time a failed node stays down (fixed, not drawn).</param>
/// <param name="Seed">Seed of the draws.</param>
public sealed record NodeFailureRate(double MtbfHours, double RepairHours, long Seed);
