namespace GpuFleet.Simulation.Engine;

/// <summary>
/// A node fails at <paramref name="At"/> (seconds on the trace's clock, that of its submission times) and is
/// repaired <paramref name="RepairSeconds"/> later. Every run on it is lost and queues again; its GPUs are
/// out of service until the repair. A failure of a node already down extends its outage to the later repair.
/// </summary>
/// <param name="At">When the node fails.</param>
/// <param name="Node">The node's index in the fleet.</param>
/// <param name="RepairSeconds">How long it stays down (at least 1).</param>
public sealed record NodeFailure(long At, int Node, long RepairSeconds);
