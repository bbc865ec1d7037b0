using System.Net;
using System.Threading.RateLimiting;

namespace GpuFleet.Server.Security;

/// <summary>
/// Counts failed authentications per client address in one-minute windows. An address over the limit
/// is refused before its token is even hashed, so that guessing tokens (or making the server hash and
/// look up junk) costs the server nothing until the window ends.
/// </summary>
public sealed class FailedAuthentications(int perMinute) : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // The partitioned limiter drops an address's window once it is idle and full again, so random
    // addresses do not accumulate.
    private readonly PartitionedRateLimiter<IPAddress> _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute, Window = Window, QueueLimit = 0,
        }));

    /// <summary>How long until <paramref name="address"/> may try again, or null when it may now.</summary>
    public TimeSpan? Barred(IPAddress address)
    {
        // Zero permits asks whether any are left without taking one.
        using var lease = _limiter.AttemptAcquire(address, 0);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
    }

    /// <summary>Counts one failed authentication of <paramref name="address"/>.</summary>
    public void Record(IPAddress address) => _limiter.AttemptAcquire(address, 1).Dispose();

    /// <inheritdoc/>
    public void Dispose() => _limiter.Dispose();
}
