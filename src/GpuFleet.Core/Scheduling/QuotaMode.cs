namespace GpuFleet.Core.Scheduling;

/// <summary>How the tenant tree's guarantees bound what tenants run.</summary>
public enum QuotaMode
{
    /// <summary>Guarantees are ignored: any tenant may use any free GPU.</summary>
    None,
    /// <summary>A tenant runs only within its guarantee; idle guaranteed GPUs stay idle.</summary>
    Confined,
    /// <summary>Within the guarantee a tenant is safe; beyond it, it borrows idle capacity (within borrow and lend limits) that is reclaimed when its owner needs it.</summary>
    Lending,
}
