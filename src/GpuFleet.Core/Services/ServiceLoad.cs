namespace GpuFleet.Core.Services;

/// <summary>
/// A service and the requests it receives over time: a step curve, each point's rate holding until the next
/// point and the last until the end. The service is deployed at its first point.
/// </summary>
/// <param name="Service">The service.</param>
/// <param name="Rate">Points in order of time, at least one, no two at the same second.</param>
public sealed record ServiceLoad(ServiceSpec Service, IReadOnlyList<ServiceRatePoint> Rate)
{
    /// <summary>Null when the curve is usable (at least one point, times strictly rising, rates finite and 0 or more), else what is wrong.</summary>
    public string? RateProblem()
    {
        if (Rate.Count == 0) return "needs at least one point";
        for (var i = 0; i < Rate.Count; i++)
        {
            var p = Rate[i];
            if (!double.IsFinite(p.RequestsPerSecond) || p.RequestsPerSecond < 0)
                return FormattableString.Invariant($"point {i} (at {p.Seconds} s): requests per second must be a number of 0 or more, not {p.RequestsPerSecond}");
            if (i > 0 && p.Seconds <= Rate[i - 1].Seconds)
                return $"point {i} (at {p.Seconds} s) is not after point {i - 1} (at {Rate[i - 1].Seconds} s)";
        }
        return null;
    }
}
