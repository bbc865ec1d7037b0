namespace GpuFleet.Core.Scheduling;

/// <summary>The order in which a cycle looks at pending jobs.</summary>
public enum QueueOrder
{
    /// <summary>Priority, then submission time.</summary>
    Submit,
    /// <summary>Tenants by decayed past use over share, then each tenant's jobs by priority and submission time.</summary>
    FairShare,
}
