namespace GpuFleet.Core.Decisions;

/// <summary>Why a running job was evicted.</summary>
public enum PreemptionKind
{
    /// <summary>Its tenant ran on borrowed GPUs (or it ran at best-effort) and a tenant within its guarantee needed them.</summary>
    Reclaim,
    /// <summary>A job of a higher priority class of the same tenant needed its GPUs.</summary>
    Priority,
}
