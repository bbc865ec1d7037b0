namespace GpuFleet.Server.Security;

/// <summary>What a token may do. Every role but admin is bound to one tenant.</summary>
public enum Role
{
    /// <summary>Reads its tenant's jobs.</summary>
    Viewer,
    /// <summary>Also submits and cancels its tenant's jobs.</summary>
    Member,
    /// <summary>A member who may also mint tokens for its tenant.</summary>
    TenantAdmin,
    /// <summary>Everything, every tenant: mints tokens, reads the audit log.</summary>
    Admin,
}
