namespace GpuFleet.Simulation.Reports;

/// <summary>Percentiles with linear interpolation between closest ranks (as numpy's default).</summary>
public static class Percentile
{
    /// <summary>The <paramref name="q"/> quantile (0–1) of values already sorted ascending; 0 for none.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return 0;
        var pos = q * (sorted.Count - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>The <paramref name="q"/> quantile (0–1) of unsorted values; 0 for none.</summary>
    public static double Of(IEnumerable<long> values, double q) => OfSorted([.. values.Select(v => (double)v).Order()], q);
}
