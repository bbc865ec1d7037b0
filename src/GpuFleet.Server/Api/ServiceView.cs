using GpuFleet.Core.Services;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Api;

/// <summary>
/// A service as the API shows it: its spec (the fields it was created with), its rate and what it wants, its
/// replicas running (with their placements) and waiting, its latest scrape and its leader's latest scale decisions.
/// </summary>
public sealed record ServiceView(
    string Name, string Tenant, int GpusPerReplica, int MinReplicas, int MaxReplicas, double RequestsPerSecondPerReplica, double TargetUtilization,
    IReadOnlyList<string> Models, JobSlice? Slice, double CpusPerGpu, double MemoryGbPerGpu, string? PriorityClass, string? Region, double? LatencyBudgetMs,
    string? PrometheusQueryUrl, DateTimeOffset CreatedAt, int StandbyReplicas,
    double RequestsPerSecond, DateTimeOffset? RateAt, int? PinnedReplicas, int DesiredReplicas, int RunningReplicas, int PendingReplicas,
    IReadOnlyList<ReplicaView> Running, IReadOnlyList<ReplicaView> Pending, ServiceScrapeView? Scrape, IReadOnlyList<ServiceDecision> Decisions)
{
    /// <summary>The view of <paramref name="service"/> with its pending and running <paramref name="replicas"/>.</summary>
    public static ServiceView Of(StoredService service, IReadOnlyList<StoredReplica> replicas)
    {
        var s = service.Spec;
        var running = replicas.Where(r => r.State == JobState.Running).Select(r => new ReplicaView(r.Id, r.SubmittedAt, r.Site, HostsOf(r.Placement))).ToList();
        var pending = replicas.Where(r => r.State == JobState.Pending).Select(r => new ReplicaView(r.Id, r.SubmittedAt, null, null)).ToList();
        return new ServiceView(s.Name, s.Tenant, s.GpusPerReplica, s.MinReplicas, s.MaxReplicas, s.RequestsPerSecondPerReplica, s.TargetUtilization,
            s.Models, JobSlice.Of(s.Slice), s.CpusPerGpu, s.MemoryGbPerGpu, s.PriorityClass, s.Region, s.LatencyBudgetMs, service.PrometheusQueryUrl,
            service.CreatedAt, s.StandbyReplicas, service.RequestsPerSecond, service.RateAt, service.PinnedReplicas, service.DesiredReplicas, running.Count, pending.Count,
            running, pending, service.PrometheusQueryUrl is null ? null : new ServiceScrapeView(service.ScrapedAt, service.ScrapeError), service.Decisions);
    }

    /// <summary>The views of the services of <paramref name="tenant"/> (null: every tenant's), in the store's order.</summary>
    public static async Task<IReadOnlyList<ServiceView>> ListAsync(ServiceStore store, string? tenant, CancellationToken cancel)
    {
        var services = await store.ListAsync(tenant, cancel);
        var views = new List<ServiceView>(services.Count);
        foreach (var s in services) views.Add(Of(s, await store.ReplicasAsync(s.Name, cancel)));
        return views;
    }

    // "site/model: nodes s-[0001-0002]" → "s-[0001-0002]".
    private static string? HostsOf(string? placement)
    {
        if (placement is null) return null;
        var at = placement.IndexOf(PlacementText.NodesMarker, StringComparison.Ordinal);
        return at < 0 ? placement : placement[(at + PlacementText.NodesMarker.Length)..];
    }
}
