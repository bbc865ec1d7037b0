namespace GpuFleet.Core.Scheduling;

/// <summary>How widely a job spreads inside one candidate pool: the tightest level its size allows.</summary>
internal enum PlacementLevel
{
    Node = 0,
    Domain = 1,
    Pool = 2,
    /// <summary>Pools of one model at several sites (only for <c>TopologyNeed.Anywhere</c>).</summary>
    MultiPool = 3,
    Impossible = 4,
}
