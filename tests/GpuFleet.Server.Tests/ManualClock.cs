namespace GpuFleet.Server.Tests;

/// <summary>A clock the test moves by hand (timers still run on real time: test servers set a loop interval of a month, and the test runs cycles itself).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    // Elapsed time (what caches expire by) moves with the hand-moved clock too.
    public override long GetTimestamp() => _now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => _now += by;
}
