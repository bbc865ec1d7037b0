namespace GpuFleet.Core.Tenancy;

/// <summary>What a project's new jobs do when its grants are used up.</summary>
public enum GrantExhaustion
{
    /// <summary>They wait with the reason "grant exhausted" until a grant has hours again.</summary>
    Hold,
    /// <summary>They run at best-effort: only on idle capacity, and first to be reclaimed.</summary>
    BestEffort,
}
