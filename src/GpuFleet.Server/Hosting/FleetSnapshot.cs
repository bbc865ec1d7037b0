using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// The scheduler's view of tenants, sites and grants at one moment. The leader builds it from the core
/// on demand, and publishes it to the database every few seconds so that replicas that do not
/// schedule can answer <c>/queues</c>, <c>/sites</c> and <c>/grants</c> too (as of <see cref="At"/>).
/// </summary>
public sealed record FleetSnapshot(DateTimeOffset At, long Epoch, IReadOnlyList<FleetSnapshot.QueueView> Queues,
    IReadOnlyList<FleetSnapshot.SiteView> Sites, IReadOnlyList<FleetSnapshot.GrantView> Grants)
{
    /// <summary>A tenant node now.</summary>
    public sealed record QueueView(string Tenant, string Owner, bool Project, int GuaranteeGpus, int UsedGpus, int BorrowedGpus, double LentGpus, int IdleGuaranteeGpus);

    /// <summary>A site now.</summary>
    /// <param name="OutOfServiceGpus">GPUs nothing is placed on: nodes down or drained, GPUs the cluster's own users hold, all of an unreachable cluster's.</param>
    /// <param name="Executor">What carries out placements there (<c>simulated</c>, <c>slurm</c>, <c>local</c>).</param>
    /// <param name="Reachable">Whether the site's cluster answers; null for a simulated site.</param>
    /// <param name="LastContact">When the cluster last answered.</param>
    /// <param name="ExecutorError">Why it does not, while it does not.</param>
    /// <param name="UnscheduledNodes">Nodes its cluster lists that GpuFleet does not schedule, or not all of (a site with <c>inventory: cluster</c>: added after the server started, or listed unlike the fleet holds them); null: none.</param>
    public sealed record SiteView(string Site, string Owner, int Gpus, int BusyGpus, double PowerMw, double PowerCapMw,
        int OutOfServiceGpus = 0, string Executor = "simulated", bool? Reachable = null, DateTimeOffset? LastContact = null, string? ExecutorError = null,
        IReadOnlyList<Execution.UnscheduledNode>? UnscheduledNodes = null);

    /// <summary>A project's grant now.</summary>
    public sealed record GrantView(string Tenant, string Grant, double GpuHours, double UsedGpuHours, double LeftGpuHours, DateTimeOffset Start, DateTimeOffset End, string WhenExhausted);

    /// <summary>The view of <paramref name="core"/>.</summary>
    public static FleetSnapshot Of(FleetScheduler core, ServerSettings settings, DateTimeOffset at, long epoch, IReadOnlyList<Execution.SiteHealth>? health = null)
    {
        var fleet = settings.Fleet;
        var borrowed = new double[core.Tenants.Count];
        var lent = new double[core.Tenants.Count];
        LendingAttribution.Compute(core, fleet.Models.Count, borrowed, lent);
        var queues = Enumerable.Range(0, core.Tenants.Count).Select(n =>
        {
            int guarantee = 0, used = 0, idle = 0;
            for (var m = 0; m < fleet.Models.Count; m++)
            {
                var g = core.Tenants.Guarantee(n, m);
                var u = core.Tenants.Use(n, m);
                guarantee += g;
                used += u;
                idle += Math.Max(0, g - u);
            }
            // A node's borrowed and lent GPUs are its projects' (an owner's guarantee is its projects' sum).
            return new QueueView(core.Tenants.Name(n), core.Tenants.Name(core.Tenants.Owner(n)), core.Tenants.IsLeaf(n), guarantee, used,
                (int)borrowed[n], Math.Round(lent[n], 1), idle);
        }).ToList();
        var busy = core.BusyByPool.ToArray();
        var outOfService = new int[fleet.Sites.Count];
        var outByPool = core.OutOfServiceByPool;
        for (var p = 0; p < fleet.PoolCount; p++) outOfService[fleet.PoolSite(p)] += outByPool[p];
        var sites = fleet.Sites.Select((s, i) =>
        {
            var h = health?.FirstOrDefault(h => h.Site == s.Name);
            return new SiteView(s.Name, s.Owner, fleet.SiteGpus(i),
                Enumerable.Range(0, fleet.PoolCount).Where(p => fleet.PoolSite(p) == i).Sum(p => busy[p]),
                fleet.SitePowerWatts(i, busy) / 1e6, s.PowerCapMw, outOfService[i], s.Executor.Kind, h?.Reachable, h?.LastContact, h?.LastError,
                h?.Unscheduled is { Count: > 0 } unscheduled ? unscheduled : null);
        }).ToList();
        var grants = Enumerable.Range(0, core.Tenants.Count).Where(core.Tenants.IsLeaf)
            .SelectMany(n => core.Tenants.GrantUse(n).Select(g => new GrantView(core.Tenants.Name(n), g.Grant.Name, g.Grant.GpuHours, g.UsedGpuHours,
                Math.Max(0, g.Grant.GpuHours - g.UsedGpuHours), settings.FromClock(g.Grant.StartTime), settings.FromClock(g.Grant.EndTime),
                g.Grant.WhenExhausted == GrantExhaustion.Hold ? "hold" : "best-effort")))
            .ToList();
        return new FleetSnapshot(at, epoch, queues, sites, grants);
    }
}
