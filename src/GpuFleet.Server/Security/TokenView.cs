namespace GpuFleet.Server.Security;

/// <summary>A token as listed: its id, role, tenant, when it was minted and, once revoked, when (never the token itself).</summary>
public sealed record TokenView(long Id, Role Role, string? Tenant, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
