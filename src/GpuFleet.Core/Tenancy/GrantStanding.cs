namespace GpuFleet.Core.Tenancy;

/// <summary>A project's standing against its grants.</summary>
internal enum GrantStanding
{
    /// <summary>The project has no grants: its use is not metered.</summary>
    NotMetered,
    /// <summary>An open grant has hours left.</summary>
    Available,
    /// <summary>No open grant has hours left; new work waits.</summary>
    ExhaustedHold,
    /// <summary>No open grant has hours left; new work runs at best-effort.</summary>
    ExhaustedBestEffort,
}
