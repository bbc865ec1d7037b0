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
    /// <param name="Models">The same per GPU model (models in which it has a guarantee or runs jobs).</param>
    /// <param name="FairShare">Its standing among its siblings under a fair-share policy; null under the others.</param>
    public sealed record QueueView(string Tenant, string Owner, bool Project, int GuaranteeGpus, int UsedGpus, int BorrowedGpus, double LentGpus, int IdleGuaranteeGpus,
        IReadOnlyList<ModelShare>? Models = null, FairShareStanding? FairShare = null);

    /// <summary>A tenant node's GPUs of one model now.</summary>
    public sealed record ModelShare(string Model, int GuaranteeGpus, int UsedGpus, int BorrowedGpus, double LentGpus, int IdleGuaranteeGpus);

    /// <summary>
    /// Where a tenant node stands in the fair-share order: its decayed use, its weight, and its rank among
    /// its siblings by use over weight (1 = served first).
    /// </summary>
    public sealed record FairShareStanding(double UsageGpuHours, double Weight, int Rank, int Siblings);

    /// <summary>One pool of a site now: GPUs of one model.</summary>
    public sealed record PoolView(string Model, int Gpus, int BusyGpus, int OutOfServiceGpus, int Domains, int Nodes);

    /// <summary>A site's mean use over one stretch of time (the leader's samples).</summary>
    public sealed record UsePoint(DateTimeOffset At, double BusyGpus, double PowerMw);

    /// <summary>A site now.</summary>
    /// <param name="OutOfServiceGpus">GPUs nothing is placed on: nodes down or drained, GPUs the cluster's own users hold, all of an unreachable cluster's.</param>
    /// <param name="Executor">What carries out placements there (<c>simulated</c>, <c>slurm</c>, <c>local</c>).</param>
    /// <param name="Reachable">Whether the site's cluster answers; null for a simulated site.</param>
    /// <param name="LastContact">When the cluster last answered.</param>
    /// <param name="ExecutorError">Why it does not, while it does not.</param>
    /// <param name="Pools">Its GPUs per pool (one model each).</param>
    /// <param name="EnergyTodayMwh">Facility energy drawn since <paramref name="EnergySince"/>: midnight UTC, or when this leader began counting if later.</param>
    /// <param name="History">Mean busy GPUs and power per 5 minutes over the last 6 hours the leader saw, oldest first.</param>
    /// <param name="HeldByOthersGpus">Of the GPUs out of service, those the cluster's own users hold (the rest are down, drained, missing, set aside or unreachable).</param>
    /// <param name="UnscheduledNodes">Nodes its cluster lists that GpuFleet does not schedule, or not all of (a site with <c>inventory: cluster</c>: added after the server started, or listed unlike the fleet holds them); null: none.</param>
    /// <param name="WaitingInCluster">Runs launched there that its cluster has not started yet, the longest waiting and why, and each run with its reason (a job, its tenant and its reason only to callers who see that tenant's jobs); null: none.</param>
    /// <param name="SetAsideNodes">Nodes out of service for a while because its cluster did not start a run there within <c>launchTimeoutSeconds</c>; null: none.</param>
    /// <param name="SetAsideUntil">When each of <paramref name="SetAsideNodes"/> takes work again (a new leader sets them aside until then too); null: none.</param>
    public sealed record SiteView(string Site, string Owner, int Gpus, int BusyGpus, double PowerMw, double PowerCapMw,
        int OutOfServiceGpus = 0, string Executor = "simulated", bool? Reachable = null, DateTimeOffset? LastContact = null, string? ExecutorError = null,
        IReadOnlyList<PoolView>? Pools = null, double? EnergyTodayMwh = null, DateTimeOffset? EnergySince = null, IReadOnlyList<UsePoint>? History = null,
        IReadOnlyList<Execution.UnscheduledNode>? UnscheduledNodes = null, int HeldByOthersGpus = 0, Execution.ClusterWait? WaitingInCluster = null,
        IReadOnlyList<string>? SetAsideNodes = null, IReadOnlyDictionary<string, DateTimeOffset>? SetAsideUntil = null)
    {
        /// <summary>The site as <paramref name="caller"/> may see it: another tenant's waiting job is counted, not named.</summary>
        public SiteView SeenBy(Security.Caller caller) => WaitingInCluster is { } wait ? this with { WaitingInCluster = wait.SeenBy(caller) } : this;
    }

    /// <summary>A project's grant now.</summary>
    public sealed record GrantView(string Tenant, string Grant, double GpuHours, double UsedGpuHours, double LeftGpuHours, DateTimeOffset Start, DateTimeOffset End, string WhenExhausted);

    /// <summary>The view as <paramref name="caller"/> may see it (<see cref="SiteView.SeenBy"/>).</summary>
    public FleetSnapshot SeenBy(Security.Caller caller) => this with { Sites = [.. Sites.Select(s => s.SeenBy(caller))] };

    /// <summary>The view of <paramref name="core"/>.</summary>
    public static FleetSnapshot Of(FleetScheduler core, ServerSettings settings, DateTimeOffset at, long epoch, IReadOnlyList<Execution.SiteHealth>? health = null)
    {
        var fleet = settings.Fleet;
        var borrowed = new double[core.Tenants.Count];
        var lent = new double[core.Tenants.Count];
        LendingAttribution.Compute(core, fleet.Models.Count, borrowed, lent);
        var models = fleet.Models.Count;
        var borrowedByModel = new double[models][];
        var lentByModel = new double[models][];
        for (var m = 0; m < models; m++)
        {
            borrowedByModel[m] = new double[core.Tenants.Count];
            lentByModel[m] = new double[core.Tenants.Count];
            LendingAttribution.ComputeForModel(core, m, borrowedByModel[m], lentByModel[m]);
        }
        var standing = settings.Scheduling.Policy.Order == QueueOrder.FairShare ? FairShareRanks(core) : null;
        var queues = Enumerable.Range(0, core.Tenants.Count).Select(n =>
        {
            int guarantee = 0, used = 0, idle = 0;
            var byModel = new List<ModelShare>();
            for (var m = 0; m < models; m++)
            {
                var g = core.Tenants.Guarantee(n, m);
                var u = core.Tenants.Use(n, m);
                guarantee += g;
                used += u;
                idle += Math.Max(0, g - u);
                if (g > 0 || u > 0)
                    byModel.Add(new ModelShare(fleet.Models[m].Name, g, u, (int)borrowedByModel[m][n], Math.Round(lentByModel[m][n], 1), Math.Max(0, g - u)));
            }
            // A node's borrowed and lent GPUs are its projects' (an owner's guarantee is its projects' sum).
            return new QueueView(core.Tenants.Name(n), core.Tenants.Name(core.Tenants.Owner(n)), core.Tenants.IsLeaf(n), guarantee, used,
                (int)borrowed[n], Math.Round(lent[n], 1), idle, byModel, standing?[n]);
        }).ToList();
        var busy = core.BusyByPool.ToArray();
        var outOfService = new int[fleet.Sites.Count];
        var outByPool = core.OutOfServiceByPool.ToArray();
        for (var p = 0; p < fleet.PoolCount; p++) outOfService[fleet.PoolSite(p)] += outByPool[p];
        var sites = fleet.Sites.Select((s, i) =>
        {
            var h = health?.FirstOrDefault(h => h.Site == s.Name);
            var pools = Enumerable.Range(0, fleet.PoolCount).Where(p => fleet.PoolSite(p) == i)
                .Select(p => new PoolView(fleet.Models[fleet.PoolModel(p)].Name, fleet.PoolGpus(p), busy[p], outByPool[p], fleet.PoolDomains(p).Length, PoolNodes(fleet, p)))
                .ToList();
            return new SiteView(s.Name, s.Owner, fleet.SiteGpus(i), pools.Sum(p => p.BusyGpus),
                fleet.SitePowerWatts(i, busy) / 1e6, s.PowerCapMw, outOfService[i], s.Executor.Kind, h?.Reachable, h?.LastContact, h?.LastError, pools,
                UnscheduledNodes: h?.Unscheduled is { Count: > 0 } unscheduled ? unscheduled : null, HeldByOthersGpus: Math.Min(outOfService[i], h?.HeldByOthersGpus ?? 0),
                WaitingInCluster: h?.Waiting, SetAsideNodes: h?.SetAside is { Count: > 0 } aside ? [.. aside.Keys] : null,
                SetAsideUntil: h?.SetAside is { Count: > 0 } until ? until : null);
        }).ToList();
        var grants = Enumerable.Range(0, core.Tenants.Count).Where(core.Tenants.IsLeaf)
            .SelectMany(n => core.Tenants.GrantUse(n).Select(g => new GrantView(core.Tenants.Name(n), g.Grant.Name, g.Grant.GpuHours, g.UsedGpuHours,
                Math.Max(0, g.Grant.GpuHours - g.UsedGpuHours), settings.FromClock(g.Grant.StartTime), settings.FromClock(g.Grant.EndTime),
                g.Grant.WhenExhausted == GrantExhaustion.Hold ? "hold" : "best-effort")))
            .ToList();
        return new FleetSnapshot(at, epoch, queues, sites, grants);
    }

    private static int PoolNodes(Core.Fleets.Fleet fleet, int pool)
    {
        var nodes = 0;
        foreach (var d in fleet.PoolDomains(pool)) nodes += fleet.DomainNodeCount(d);
        return nodes;
    }

    /// <summary>Each node's rank among its siblings by decayed use over weight, as the fair-share walk orders them.</summary>
    private static FairShareStanding[] FairShareRanks(FleetScheduler core)
    {
        var t = core.Tenants;
        var standing = new FairShareStanding[t.Count];
        foreach (var siblings in Enumerable.Range(0, t.Count).GroupBy(n => t.Path(n).Length > 1 ? t.Path(n)[^2] : -1))
        {
            var ordered = siblings.OrderBy(n => t.Usage(n) / t.Weight(n)).ThenBy(n => t.Name(n), StringComparer.Ordinal).ToList();
            for (var k = 0; k < ordered.Count; k++)
                standing[ordered[k]] = new FairShareStanding(Math.Round(t.Usage(ordered[k]) / 3600, 1), t.Weight(ordered[k]), k + 1, ordered.Count);
        }
        return standing;
    }
}
