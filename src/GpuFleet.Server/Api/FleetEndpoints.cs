using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuFleet.Server.Api;

/// <summary>
/// <c>GET /api/v1/queues</c>: each tenant node with its guarantee, use, borrowed and lent GPUs (a
/// tenant token sees its own path); <c>GET /api/v1/sites</c>: capacity, busy GPUs and power against the cap;
/// <c>GET /api/v1/grants</c>: each project's grants with hours charged and left. A replica that does
/// not schedule answers from the leader's latest published view (its time is in <c>X-GpuFleet-View-At</c>).
/// </summary>
public static class FleetEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/grants", (HttpContext context, LiveScheduler scheduler) =>
            Answer(context, scheduler, (view, caller) => view.Grants.Where(g => caller.Sees(g.Tenant))));
        app.MapGet("/api/v1/queues", (HttpContext context, LiveScheduler scheduler) =>
            Answer(context, scheduler, (view, caller) =>
            {
                if (caller.Role == Role.Admin) return view.Queues;
                var owner = view.Queues.FirstOrDefault(q => q.Tenant == caller.Tenant)?.Owner;
                return view.Queues.Where(q => q.Tenant == caller.Tenant || q.Tenant == owner);
            }));
        app.MapGet("/api/v1/sites", (HttpContext context, LiveScheduler scheduler) => Answer(context, scheduler, (view, caller) => view.Sites.Select(s => s.SeenBy(caller))));
    }

    private static async Task<IResult> Answer<T>(HttpContext context, LiveScheduler scheduler, Func<FleetSnapshot, Caller, IEnumerable<T>> select)
    {
        var view = await scheduler.ViewAsync(context.RequestAborted);
        if (view is null)
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "no scheduler view yet",
                detail: "no replica has led the scheduler yet; try again in a few seconds");
        context.Response.Headers["X-GpuFleet-View-At"] = view.At.ToString("O");
        return Results.Ok(select(view, CallerAccess.Of(context)!).ToList());
    }
}
