using GpuFleet.Core.Workloads;

namespace GpuFleet.Data.Workloads;

/// <summary>
/// Fits a <see cref="WorkloadComponent"/> to a trace: the empirical GPU-count distribution, run-time
/// quantiles per GPU count (so big jobs keep their own run times), tenants' shares and the daily
/// arrival profile. Sizes seen fewer than <see cref="MinJobsPerSize"/> times are merged into the
/// nearest smaller size's quantiles but keep their own weight.
/// </summary>
public static class WorkloadFitter
{
    /// <summary>Fewest jobs of a size for it to get its own run-time quantiles.</summary>
    public const int MinJobsPerSize = 5;

    /// <summary>Fits one component.</summary>
    public static WorkloadComponent Fit(string name, string source, double gpuTimeShare, IReadOnlyList<TraceJob> jobs)
    {
        if (jobs.Count == 0) throw new ArgumentException("cannot fit an empty trace", nameof(jobs));
        var sizes = new List<SizeClass>();
        double[]? previous = null;
        foreach (var group in jobs.GroupBy(j => j.Spec.Gpus).OrderBy(g => g.Key))
        {
            var durations = group.Select(j => (double)j.RuntimeSeconds).Order().ToArray();
            var quantiles = durations.Length >= MinJobsPerSize || previous is null ? Quantiles(durations) : previous;
            previous = quantiles;
            sizes.Add(new SizeClass(group.Key, (double)group.Count() / jobs.Count, quantiles));
        }
        var tenants = jobs.GroupBy(j => j.Spec.Tenant)
            .Select(g => new TenantWeight(g.Key, (double)g.Count() / jobs.Count))
            .OrderByDescending(t => t.Weight).ThenBy(t => t.Tenant, StringComparer.Ordinal).ToList();
        var hourly = new double[24];
        foreach (var job in jobs) hourly[job.Spec.SubmitTime / 3600 % 24] += 1.0 / jobs.Count;
        return new WorkloadComponent(name, source, gpuTimeShare, sizes, tenants, hourly);
    }

    private static double[] Quantiles(double[] sorted)
    {
        var q = new double[21];
        for (var i = 0; i <= 20; i++)
        {
            var pos = i / 20.0 * (sorted.Length - 1);
            var lo = (int)Math.Floor(pos);
            var hi = Math.Min(lo + 1, sorted.Length - 1);
            q[i] = Math.Max(1, sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo));
        }
        return q;
    }
}
