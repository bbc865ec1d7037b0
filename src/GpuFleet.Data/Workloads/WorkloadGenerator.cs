using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Data.Workloads;

/// <summary>
/// Generates a synthetic trace from a fitted <see cref="WorkloadModel"/>, scaled to a fleet and an
/// offered load (GPU-time asked for over GPU-time the fleet has, over the period).
/// <para>Worked example: 656 GPUs, 7 days, load 0.9 → 0.9 × 656 × 7 × 86,400 ≈ 357 M GPU-seconds to
/// generate. A component with 10% of that and a mean of 42,800 GPU-seconds per job contributes about
/// 834 jobs, spread over the hours of each day by its fitted daily profile (Poisson counts per hour,
/// uniform times within the hour).</para>
/// Sizes the fleet cannot hold at one site are left out and the other sizes re-weighted. Owners:
/// where the fleet has several owners, each job's tenant is prefixed with an owner drawn in
/// proportion to the GPUs it owns. Same inputs and seed give the same jobs.
/// </summary>
public static class WorkloadGenerator
{
    /// <summary>
    /// Gangs of at least this many GPUs checkpoint (assumption: large training runs, like Kalos's LLM
    /// pre-training, save state regularly; the traces do not record it). Smaller jobs do not.
    /// </summary>
    public const int CheckpointingGangGpus = 64;

    /// <summary>How often those gangs checkpoint (assumption: hourly).</summary>
    public const long CheckpointIntervalSeconds = 3_600;

    /// <summary>
    /// Generates jobs sorted by submit time, with ids from 1. With a tenant tree, each job goes to a
    /// project (leaf) drawn in proportion to its guarantee, so demand follows entitlement; the draw uses
    /// its own random stream, so sizes, times and run times are the same with or without a tree.
    /// </summary>
    public static IReadOnlyList<TraceJob> Generate(WorkloadModel model, Fleet fleet, double days, double load, int seed, TenantTree? tenants = null)
        => GenerateSized(model, fleet, days, load, seed, tenants, null, 0);

    /// <summary>
    /// As <see cref="Generate(WorkloadModel, Fleet, double, double, int, TenantTree?)"/>, but each job's request —
    /// GPUs or a slice, CPU and memory — is drawn from <paramref name="mix"/> (a random stream of its own), and its
    /// run time from the component's jobs of the nearest size (a slice counts as one GPU there). The offered load
    /// counts a slice as its fraction of a GPU. With <paramref name="mixShare"/> below 1, only that share of the
    /// offered GPU-time comes from the mix and the rest from the model's own sizes, as without a mix: on a national
    /// fleet the large gangs stay, beside many small requests (the mix alone there means tens of millions of jobs a day).
    /// </summary>
    public static IReadOnlyList<TraceJob> Generate(WorkloadModel model, Fleet fleet, double days, double load, int seed, TenantTree? tenants, RequestMix mix,
        double mixShare = 1)
    {
        ArgumentNullException.ThrowIfNull(mix);
        if (!(mixShare > 0) || mixShare > 1) throw new ArgumentOutOfRangeException(nameof(mixShare), mixShare, "must be above 0 and at most 1");
        return GenerateSized(model, fleet, days, load, seed, tenants, mix, mixShare);
    }

    private static IReadOnlyList<TraceJob> GenerateSized(WorkloadModel model, Fleet fleet, double days, double load, int seed, TenantTree? tenants, RequestMix? mix,
        double mixShare)
    {
        var mixRng = new Random(unchecked(seed * 1_000_003 + 104_729));
        if (days <= 0 || !double.IsFinite(days)) throw new ArgumentOutOfRangeException(nameof(days), "days must be positive");
        if (load <= 0 || !double.IsFinite(load)) throw new ArgumentOutOfRangeException(nameof(load), "load must be positive");
        var largestPool = Enumerable.Range(0, fleet.PoolCount).Max(fleet.PoolGpus);
        var owners = OwnerWeights(fleet);
        var leaves = tenants?.Leaves.Select(t => (t.Name, Weight: (double)t.Guarantee.Values.Sum())).Where(t => t.Weight > 0).ToArray() ?? [];
        var leafCdf = Cumulative(leaves.Select(l => l.Weight));
        var period = days * 86_400;
        var target = load * fleet.TotalGpus * period;
        var shares = model.Components.Sum(c => c.GpuTimeShare);
        var raw = new List<(long Submit, int Gpus, long Runtime, string Tenant, RequestShape? Shape)>();
        for (var ci = 0; ci < model.Components.Count; ci++)
        {
            var component = model.Components[ci];
            var sizes = component.Sizes.Where(s => s.Gpus <= largestPool).ToArray();
            if (sizes.Length == 0 || component.GpuTimeShare <= 0) continue;
            var sizeCdf = Cumulative(sizes.Select(s => s.Weight));
            var tenantCdf = Cumulative(component.Tenants.Select(t => t.Weight));
            var hourCdf = component.HourlyArrivalWeights.Sum();
            var (jobsPerSecond, fromMix) = Rates(component, sizes, mix, mixShare, target, shares, period);
            // HashCode.Combine is salted per process; a plain formula keeps the same seed giving the same jobs.
            var rng = new Random(unchecked(seed * 1_000_003 + ci));
            var tenantRng = new Random(unchecked(seed * 1_000_003 + 7_919 + ci));
            for (var hourStart = 0.0; hourStart < period; hourStart += 3_600)
            {
                var hourLength = Math.Min(3_600, period - hourStart);
                var weight = component.HourlyArrivalWeights[(int)(hourStart / 3_600) % 24] * 24 / hourCdf;
                var count = Poisson(rng, jobsPerSecond * hourLength * weight);
                for (var k = 0; k < count; k++)
                {
                    var submit = (long)(hourStart + rng.NextDouble() * hourLength);
                    var size = sizes[Pick(sizeCdf, rng.NextDouble())];
                    // All from the mix draws no coin, so that such a workload is the one it was before shares existed.
                    var shape = mix is not null && (fromMix >= 1 || mixRng.NextDouble() < fromMix) ? mix.Draw(mixRng) : null;
                    if (shape is not null) size = Nearest(sizes, shape.Gpus);
                    var runtime = Math.Max(1L, (long)Math.Round(SampleDuration(size.DurationQuantiles, rng.NextDouble())));
                    var tenant = component.Tenants[Pick(tenantCdf, rng.NextDouble())].Tenant;
                    if (owners.Owners.Length > 1) tenant = owners.Owners[Pick(owners.Cdf, rng.NextDouble())] + "/" + tenant;
                    if (leaves.Length > 0) tenant = leaves[Pick(leafCdf, tenantRng.NextDouble())].Name;
                    raw.Add((submit, shape?.Gpus ?? size.Gpus, runtime, tenant, shape));
                }
            }
        }
        raw.Sort((a, b) => a.Submit.CompareTo(b.Submit));
        var jobs = new TraceJob[raw.Count];
        for (var i = 0; i < raw.Count; i++)
        {
            var r = raw[i];
            jobs[i] = new TraceJob(new JobSpec(i + 1, r.Tenant, r.Gpus, [], TopologyNeed.Site, TimeLimitLadder.RoundUp(r.Runtime), 0, r.Submit)
            {
                CheckpointIntervalSeconds = r.Gpus >= CheckpointingGangGpus ? CheckpointIntervalSeconds : 0,
                Slice = r.Shape?.Slice,
                CpusPerGpu = r.Shape?.CpusPerGpu ?? 0,
                MemoryGbPerGpu = r.Shape?.MemoryGbPerGpu ?? 0,
            }, r.Runtime);
        }
        return jobs;
    }

    /// <summary>
    /// How many jobs <see cref="Generate"/> draws for these inputs on average (its counts are Poisson draws
    /// around this mean), computed without drawing them: a caller may refuse a workload too large to run
    /// before generating it. Example: 656 GPUs, 7 days, load 0.9 gives about 2,400 Philly-like jobs.
    /// </summary>
    public static double ExpectedJobs(WorkloadModel model, Fleet fleet, double days, double load, RequestMix? mix = null, double mixShare = 1)
    {
        if (days <= 0 || !double.IsFinite(days)) throw new ArgumentOutOfRangeException(nameof(days), "days must be positive");
        if (load <= 0 || !double.IsFinite(load)) throw new ArgumentOutOfRangeException(nameof(load), "load must be positive");
        var largestPool = Enumerable.Range(0, fleet.PoolCount).Max(fleet.PoolGpus);
        var period = days * 86_400;
        var target = load * fleet.TotalGpus * period;
        var shares = model.Components.Sum(c => c.GpuTimeShare);
        var jobs = 0.0;
        foreach (var component in model.Components)
        {
            var sizes = component.Sizes.Where(s => s.Gpus <= largestPool).ToArray();
            if (sizes.Length == 0 || component.GpuTimeShare <= 0) continue;
            jobs += Rates(component, sizes, mix, mix is null ? 0 : mixShare, target, shares, period).JobsPerSecond * period;
        }
        return jobs;
    }

    // The arrival rate of a component that brings its share of the target GPU-seconds with jobs of its mean size and duration.
    private static double JobsPerSecond(WorkloadComponent component, SizeClass[] sizes, double target, double shares, double period)
    {
        var meanGpuSeconds = sizes.Sum(s => s.Weight * s.Gpus * MeanDuration(s.DurationQuantiles)) / sizes.Sum(s => s.Weight);
        return target * component.GpuTimeShare / shares / meanGpuSeconds / period;
    }

    // With a request mix: the mean GPU-seconds of a job is the mix's mean over its requests (a slice counting its
    // fraction) of GPUs × the mean run time of the component's nearest size.
    private static double MixedJobsPerSecond(WorkloadComponent component, SizeClass[] sizes, RequestMix mix, double target, double shares, double period)
    {
        var meanGpuSeconds = mix.Expected(shape => shape.StatedGpus * MeanDuration(Nearest(sizes, shape.Gpus).DurationQuantiles));
        return target * component.GpuTimeShare / shares / meanGpuSeconds / period;
    }

    // A component's arrival rate, and the share of its arrivals drawn from the mix: the mix brings mixShare of the
    // component's GPU-seconds, its own sizes the rest.
    private static (double JobsPerSecond, double FromMix) Rates(WorkloadComponent component, SizeClass[] sizes, RequestMix? mix, double mixShare,
        double target, double shares, double period)
    {
        if (mix is null || mixShare <= 0) return (JobsPerSecond(component, sizes, target, shares, period), 0);
        var mixed = MixedJobsPerSecond(component, sizes, mix, target, shares, period) * mixShare;
        if (mixShare >= 1) return (mixed, 1);
        var own = JobsPerSecond(component, sizes, target, shares, period) * (1 - mixShare);
        return (mixed + own, mixed / (mixed + own));
    }

    // The size class whose GPU count is nearest (the smaller on a tie).
    private static SizeClass Nearest(SizeClass[] sizes, int gpus) =>
        sizes.OrderBy(s => Math.Abs(s.Gpus - gpus)).ThenBy(s => s.Gpus).First();

    /// <summary>Mean of the piecewise log-uniform distribution between consecutive quantiles.</summary>
    internal static double MeanDuration(double[] q)
    {
        var sum = 0.0;
        for (var i = 0; i < q.Length - 1; i++)
        {
            double a = q[i], b = q[i + 1];
            sum += Math.Abs(b - a) < 1e-9 ? a : (b - a) / Math.Log(b / a);
        }
        return sum / (q.Length - 1);
    }

    private static double SampleDuration(double[] q, double u)
    {
        var x = u * (q.Length - 1);
        var i = Math.Min((int)x, q.Length - 2);
        return Math.Exp(Math.Log(q[i]) + (Math.Log(q[i + 1]) - Math.Log(q[i])) * (x - i));
    }

    /// <summary>The cumulative shares of <paramref name="weights"/>, for <see cref="Pick"/>.</summary>
    internal static double[] Cumulative(IEnumerable<double> weights)
    {
        var w = weights.ToArray();
        var total = w.Sum();
        var cdf = new double[w.Length];
        var acc = 0.0;
        for (var i = 0; i < w.Length; i++) cdf[i] = acc += w[i] / total;
        return cdf;
    }

    /// <summary>The index a uniform draw <paramref name="u"/> falls on in <paramref name="cdf"/>.</summary>
    internal static int Pick(double[] cdf, double u)
    {
        var i = Array.BinarySearch(cdf, u);
        if (i < 0) i = ~i;
        return Math.Min(i, cdf.Length - 1);
    }

    /// <summary>Poisson draw: Knuth's method for small means, a rounded normal for large ones.</summary>
    private static int Poisson(Random rng, double mean)
    {
        if (mean <= 0) return 0;
        if (mean > 60)
        {
            var u1 = 1 - rng.NextDouble();
            var u2 = rng.NextDouble();
            var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return Math.Max(0, (int)Math.Round(mean + z * Math.Sqrt(mean)));
        }
        var limit = Math.Exp(-mean);
        var k = 0;
        var p = rng.NextDouble();
        while (p > limit)
        {
            k++;
            p *= rng.NextDouble();
        }
        return k;
    }

    private static OwnerTable OwnerWeights(Fleet fleet)
    {
        var byOwner = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (var s = 0; s < fleet.Sites.Count; s++)
            byOwner[fleet.Sites[s].Owner] = byOwner.GetValueOrDefault(fleet.Sites[s].Owner) + fleet.SiteGpus(s);
        var owners = byOwner.Where(kv => kv.Value > 0).ToList();
        return new OwnerTable([.. owners.Select(kv => kv.Key)], Cumulative(owners.Select(kv => kv.Value)));
    }

    private sealed record OwnerTable(string[] Owners, double[] Cdf);
}
