using GpuFleet.Core.Fleets;
using GpuFleet.Core.Services;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Data.Workloads;

/// <summary>
/// Inference services for the twin, sized to a fleet: each plays one request-rate curve (a production day, such as
/// the Alibaba GenAI trace's), scaled and shifted so that the services together want about <c>share</c> of the
/// fleet's GPUs at their peaks, and at different hours of their day.
/// <para>Example: 20 services, share 0.05, on a fleet of 260,000 GPUs: each peaks at 650 GPU-equivalents.
/// <c>service-04</c> draws RTX PRO 6000 (models are drawn by their GPUs in the fleet), which has MIG: as every second
/// service, it runs on the smallest profile, 1g.24gb, a quarter GPU. At 10 requests/s per whole GPU a replica serves 2.5; at the curve's
/// peak it wants 650 / 0.25 = 2,600 replicas, so its rates are scaled to 2,600 × 2.5 × 0.7 (the target
/// utilization) = 4,550 requests/s there; it may run up to 3,250 (a quarter more). Its tenant is drawn among the
/// tree's leaves by their RTX PRO 6000 guarantee, its class is the tree's highest, and its day starts a random
/// number of 10-minute steps before the run does.</para>
/// <para>Assumptions, stated because no public trace gives them: 10 requests/s per GPU (slices in proportion to
/// their compute), a target utilization of 0.7, at least one replica, and per replica half of its GPUs' share of
/// the node's CPUs and memory (where the fleet counts them), at most half of a model's GPUs for one service.
/// <c>service-01</c>, <c>-03</c>... run on whole GPUs, <c>service-02</c>, <c>-04</c>... on a slice where their
/// model may be shared.</para>
/// </summary>
public static class ServiceGenerator
{
    /// <summary>Requests per second one whole GPU serves at full load (an assumption; slices serve in proportion).</summary>
    public const double RequestsPerGpu = 10;

    /// <summary>Share of its capacity the scaler aims for.</summary>
    public const double TargetUtilization = 0.7;

    /// <summary>Room above the curve's peak for <see cref="ServiceSpec.MaxReplicas"/>.</summary>
    public const double MaxOverPeak = 1.25;

    /// <summary>The step by which each service's day is shifted.</summary>
    public const long ShiftStepSeconds = 600;

    /// <summary>
    /// <paramref name="count"/> services on <paramref name="fleet"/> playing <paramref name="curve"/>, for tenants of
    /// <paramref name="tenants"/> (its leaves; without a tree, tenant <c>inference</c>). Same inputs, same services.
    /// </summary>
    public static IReadOnlyList<GeneratedService> Generate(Fleet fleet, TenantTree? tenants, int count, double share, int seed,
        IReadOnlyList<ServiceRatePoint> curve)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(curve);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!(share > 0) || share > 1) throw new ArgumentOutOfRangeException(nameof(share), share, "must be above 0 and at most 1");
        var peakRate = curve.Count == 0 ? 0 : curve.Max(p => p.RequestsPerSecond);
        if (!(peakRate > 0)) throw new ArgumentException("the rate curve must have a rate above 0", nameof(curve));

        // GPUs of each model that services may use: dedicated sites take only the jobs that name them.
        var models = fleet.PoolSpecs.Where(p => !fleet.Sites[fleet.SiteIndex(p.Site)].Dedicated)
            .GroupBy(p => p.Model).Select(g => (Model: fleet.Models[fleet.ModelIndex(g.Key)], Gpus: g.Sum(p => p.Gpus), Pools: g.ToList()))
            .Where(m => m.Gpus > 0).ToArray();
        if (models.Length == 0) throw new ArgumentException($"fleet {fleet.Name} has no GPUs outside dedicated sites", nameof(fleet));
        var modelCdf = WorkloadGenerator.Cumulative(models.Select(m => (double)m.Gpus));
        var priorityClass = tenants?.Classes.Where(c => !c.BestEffort).MaxBy(c => c.Priority)?.Name;
        // Its own stream: the training jobs drawn with the same seed do not change when services are added.
        var rng = new Random(unchecked(seed * 7_919 + 104_729));
        var services = new List<GeneratedService>(count);
        for (var i = 0; i < count; i++)
        {
            var (model, gpus, pools) = models[WorkloadGenerator.Pick(modelCdf, rng.NextDouble())];
            var (slice, gpuShare) = i % 2 == 1 ? SmallestSlice(model) : (null, 1.0);
            var peakGpus = Math.Min(share * fleet.TotalGpus / count, gpus / 2.0);
            var peakReplicas = Math.Max(1, (int)Math.Floor(peakGpus / gpuShare));
            var perReplica = RequestsPerGpu * gpuShare;
            var scale = peakReplicas * perReplica * TargetUtilization / peakRate;
            var tenant = Tenant(tenants, model.Name, rng);
            var shift = -ShiftStepSeconds * rng.Next((int)(86_400 / ShiftStepSeconds));
            // Half a GPU's share of the node, on the model's smallest nodes; none where the fleet does not count it.
            var cpus = pools.Min(p => p.CpusPerNode == 0 ? 0 : (double)p.CpusPerNode / p.GpusPerNode);
            var memory = pools.Min(p => p.MemoryGbPerNode == 0 ? 0 : (double)p.MemoryGbPerNode / p.GpusPerNode);
            var spec = new ServiceSpec($"service-{i + 1:D2}", tenant, 1, 1, Math.Max(1, (int)Math.Ceiling(peakReplicas * MaxOverPeak)), perReplica, TargetUtilization)
            {
                Models = [model.Name],
                Slice = slice,
                CpusPerGpu = Math.Floor(cpus * gpuShare / 2),
                MemoryGbPerGpu = Math.Floor(memory * gpuShare / 2),
                PriorityClass = priorityClass,
            };
            services.Add(new GeneratedService(spec, scale, shift, peakReplicas * gpuShare));
        }
        return services;
    }

    // The smallest MIG profile (fewest compute slices, then least memory; asked for by name, as a file spells it);
    // a quarter of the GPU's time where it is shared in time only; a whole GPU where it is not shared.
    private static (SliceRequest? Slice, double GpuShare) SmallestSlice(GpuModel model)
    {
        if (model.Sharing is not { } sharing) return (null, 1.0);
        var smallest = sharing.MigProfiles.OrderBy(p => p.ComputeSlices).ThenBy(p => p.MemoryGb).FirstOrDefault();
        if (smallest is not null) return (new SliceRequest(smallest.Name, 0, 0), (double)smallest.ComputeSlices / sharing.ComputeSlices);
        return sharing.TimeSharing ? (new SliceRequest(null, 0.25, Math.Floor(model.MemoryGb / 4)), 0.25) : (null, 1.0);
    }

    // A leaf guaranteed GPUs of the model, drawn by that guarantee; else any leaf with a guarantee, by its total.
    private static string Tenant(TenantTree? tenants, string model, Random rng)
    {
        var leaves = tenants?.Leaves ?? [];
        var weights = leaves.Select(l => (double)l.Guarantee.GetValueOrDefault(model)).ToArray();
        if (weights.Sum() == 0) weights = [.. leaves.Select(l => (double)l.Guarantee.Values.Sum())];
        if (weights.Sum() == 0) return leaves.Count > 0 ? leaves[rng.Next(leaves.Count)].Name : "inference";
        return leaves[WorkloadGenerator.Pick(WorkloadGenerator.Cumulative(weights), rng.NextDouble())].Name;
    }
}
