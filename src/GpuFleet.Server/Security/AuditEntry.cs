namespace GpuFleet.Server.Security;

/// <summary>One state-changing call: when, by which token (role, tenant), what, and the answer's status.</summary>
public sealed record AuditEntry(DateTimeOffset At, long? TokenId, string? Role, string? Tenant, string Method, string Path, int Status);
