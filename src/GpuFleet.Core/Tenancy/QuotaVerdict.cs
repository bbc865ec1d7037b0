namespace GpuFleet.Core.Tenancy;

/// <summary>Whether a tenant may borrow beyond its guarantee.</summary>
internal enum QuotaVerdict
{
    Allowed,
    /// <summary>A node on the tenant's path would exceed its borrowing limit.</summary>
    BorrowLimit,
    /// <summary>The idle GPUs are guaranteed to tenants that do not lend them to this one (lend limit, or an owner that keeps its capacity).</summary>
    KeptForLenders,
}
