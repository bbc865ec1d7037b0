namespace GpuFleet.Core.Decisions;

/// <summary>
/// The blocked job at the front of the line and the time by which, as running jobs end no later than
/// their limits, it is sure to start (the shadow time of EASY backfill).
/// </summary>
public sealed record Reservation(long JobId, long ShadowTime, int HeldGpus);
