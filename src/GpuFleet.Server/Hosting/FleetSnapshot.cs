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
    public sealed record SiteView(string Site, string Owner, int Gpus, int BusyGpus, double PowerMw, double PowerCapMw);

    /// <summary>A project's grant now.</summary>
    public sealed record GrantView(string Tenant, string Grant, double GpuHours, double UsedGpuHours, double LeftGpuHours, DateTimeOffset Start, DateTimeOffset End, string WhenExhausted);

    /// <summary>The view of <paramref name="core"/>.</summary>
    public static FleetSnapshot Of(FleetScheduler core, ServerSettings settings, DateTimeOffset at, long epoch)
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
        var sites = fleet.Sites.Select((s, i) => new SiteView(s.Name, s.Owner, fleet.SiteGpus(i),
            Enumerable.Range(0, fleet.PoolCount).Where(p => fleet.PoolSite(p) == i).Sum(p => busy[p]),
            fleet.SitePowerWatts(i, busy) / 1e6, s.PowerCapMw)).ToList();
        var grants = Enumerable.Range(0, core.Tenants.Count).Where(core.Tenants.IsLeaf)
            .SelectMany(n => core.Tenants.GrantUse(n).Select(g => new GrantView(core.Tenants.Name(n), g.Grant.Name, g.Grant.GpuHours, g.UsedGpuHours,
                Math.Max(0, g.Grant.GpuHours - g.UsedGpuHours), settings.FromClock(g.Grant.StartTime), settings.FromClock(g.Grant.EndTime),
                g.Grant.WhenExhausted == GrantExhaustion.Hold ? "hold" : "best-effort")))
            .ToList();
        return new FleetSnapshot(at, epoch, queues, sites, grants);
    }
}
