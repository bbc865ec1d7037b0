namespace GpuFleet.Core.Workloads;

/// <summary>
/// Wall-time limits as users pick them: a run time rounded up to the next common limit
/// (15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 1 d, 2 d, 3 d, 7 d, 14 d, 30 d, 60 d, then whole 30-day steps).
/// Traces that record no limit get one this way, so backfill plans with an over-estimate, never
/// with the true run time it could not know.
/// </summary>
public static class TimeLimitLadder
{
    private static readonly long[] Steps =
    [
        900, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200, 86_400, 172_800, 259_200, 604_800,
        1_209_600, 2_592_000, 5_184_000,
    ];

    /// <summary>The smallest common limit that is at least <paramref name="runtimeSeconds"/>.</summary>
    public static long RoundUp(long runtimeSeconds)
    {
        foreach (var step in Steps) if (runtimeSeconds <= step) return step;
        const long month = 2_592_000;
        return (runtimeSeconds + month - 1) / month * month;
    }
}
