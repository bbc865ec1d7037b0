namespace GpuFleet.Core.Services;

/// <summary>From <see cref="Seconds"/> on (until the next point), a service receives <see cref="RequestsPerSecond"/>.</summary>
/// <param name="Seconds">When the rate begins, on the scheduler's clock (the twin: seconds from the trace's start).</param>
/// <param name="RequestsPerSecond">Requests per second (0 or more).</param>
public readonly record struct ServiceRatePoint(long Seconds, double RequestsPerSecond);
