using GpuFleet.Server.Api;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The usage CSV of the last 30 days for a signed-in browser: the rows and the CSV of
/// <c>GET /api/v1/usage?format=csv</c>, with its access rule (a tenant's session gets its tenant's rows).
/// </summary>
internal static class UsageDownload
{
    /// <summary>The CSV as a download.</summary>
    public static async Task<IResult> AnswerAsync(DashboardRequest request, JobStore store, ServerSettings settings, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var tenant = request.Caller.Role == Role.Admin ? null : request.Caller.Tenant;
        var rows = await UsageEndpoints.RowsAsync(store, settings, now.AddDays(-30), now, tenant, now, request.Http.RequestAborted);
        var response = request.Http.Response;
        response.Headers.ContentDisposition = "attachment; filename=\"gpufleet-usage.csv\"";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        return Results.Text(UsageEndpoints.Csv(rows), "text/csv; charset=utf-8");
    }
}
