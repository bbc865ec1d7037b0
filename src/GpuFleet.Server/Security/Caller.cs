namespace GpuFleet.Server.Security;

/// <summary>Who is calling: the token's id, role and tenant (null for an admin).</summary>
public sealed record Caller(long TokenId, Role Role, string? Tenant)
{
    /// <summary>Whether the caller may see and touch jobs of <paramref name="tenant"/>.</summary>
    public bool Sees(string tenant) => Role == Role.Admin || Tenant == tenant;

    /// <summary>Whether the caller may submit and cancel.</summary>
    public bool CanWrite => Role is Role.Member or Role.TenantAdmin or Role.Admin;
}
