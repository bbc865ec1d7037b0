using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuFleet.Server.Api;

/// <summary>
/// <c>GET /api/v1/queues</c>: each tenant node with its guarantee, use, borrowed and lent GPUs (a
/// tenant token sees its own path); <c>GET /api/v1/sites</c>: capacity, busy GPUs and power against the cap;
/// <c>GET /api/v1/grants</c>: each project's grants with hours charged and left.
/// </summary>
public static class FleetEndpoints
{
    /// <summary>A tenant node now.</summary>
    public sealed record QueueView(string Tenant, string Owner, bool Project, int GuaranteeGpus, int UsedGpus, int BorrowedGpus, int IdleGuaranteeGpus);

    /// <summary>A site now.</summary>
    public sealed record SiteView(string Site, string Owner, int Gpus, int BusyGpus, double PowerMw, double PowerCapMw);

    /// <summary>A project's grant now.</summary>
    public sealed record GrantView(string Tenant, string Grant, double GpuHours, double UsedGpuHours, double LeftGpuHours, DateTimeOffset Start, DateTimeOffset End, string WhenExhausted);

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        // Grants: hours awarded, charged and left per project.
        app.MapGet("/api/v1/grants", (HttpContext context, LiveScheduler scheduler, ServerSettings settings) =>
        {
            var caller = CallerAccess.Of(context)!;
            var grants = scheduler.Read(core => Enumerable.Range(0, core.TenantCount)
                .Where(n => core.TenantIsLeaf(n) && caller.Sees(core.TenantName(n)))
                .SelectMany(n => core.TenantGrantUse(n).Select(g => new GrantView(core.TenantName(n), g.Grant.Name, g.Grant.GpuHours, g.UsedGpuHours,
                    Math.Max(0, g.Grant.GpuHours - g.UsedGpuHours), settings.FromClock(g.Grant.StartTime),
                    settings.FromClock(g.Grant.EndTime), g.Grant.WhenExhausted == GpuFleet.Core.Tenancy.GrantExhaustion.Hold ? "hold" : "best-effort")))
                .ToList());
            return Results.Ok(grants);
        });
        app.MapGet("/api/v1/queues", (HttpContext context, LiveScheduler scheduler, ServerSettings settings) =>
        {
            var caller = CallerAccess.Of(context)!;
            var models = settings.Fleet.Models.Count;
            var queues = scheduler.Read(core => Enumerable.Range(0, core.TenantCount).Select(n =>
            {
                int guarantee = 0, used = 0, borrowed = 0, idle = 0;
                for (var m = 0; m < models; m++)
                {
                    var g = core.TenantGuarantee(n, m);
                    var u = core.TenantUse(n, m);
                    guarantee += g;
                    used += u;
                    borrowed += Math.Max(0, u - g);
                    idle += Math.Max(0, g - u);
                }
                return new QueueView(core.TenantName(n), core.TenantName(core.TenantOwner(n)), core.TenantIsLeaf(n), guarantee, used, borrowed, idle);
            }).ToList());
            return Results.Ok(caller.Role == Role.Admin ? queues : queues.Where(q => q.Tenant == caller.Tenant || q.Tenant == Owner(queues, caller.Tenant)));
        });
        app.MapGet("/api/v1/sites", (LiveScheduler scheduler, ServerSettings settings) =>
        {
            var fleet = settings.Fleet;
            return Results.Ok(scheduler.Read(core =>
            {
                var busy = core.BusyByPool.ToArray();
                return fleet.Sites.Select((s, i) => new SiteView(s.Name, s.Owner, fleet.SiteGpus(i),
                    Enumerable.Range(0, fleet.PoolCount).Where(p => fleet.PoolSite(p) == i).Sum(p => busy[p]),
                    fleet.SitePowerWatts(i, busy) / 1e6, s.PowerCapMw)).ToList();
            }));
        });
    }

    private static string? Owner(List<QueueView> queues, string? tenant) => queues.FirstOrDefault(q => q.Tenant == tenant)?.Owner;
}
