namespace GpuFleet.Server.Storage;

/// <summary>
/// The scheduler lease as stored: its epoch (bumped by every new leader), who holds it and since when,
/// until when (on the database's clock; null or past: free), how to tell whether the holder lives,
/// where the leader's API answers, and the database's clock when this was read.
/// </summary>
public sealed record LeaseState(long Epoch, string? Holder, DateTimeOffset? Since, DateTimeOffset? ExpiresAt, string? Liveness, string? Url, DateTimeOffset ReadAt)
{
    /// <summary>Whether a holder's lease runs at <see cref="ReadAt"/>.</summary>
    public bool Running => Holder is not null && ExpiresAt is { } until && until > ReadAt;
}
