using GpuFleet.Server.Api;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The usage CSV for a signed-in browser: the rows and the CSV of <c>GET /api/v1/usage?format=csv</c>,
/// with its access rule (a tenant's session gets its tenant's rows), for the days chosen on the Tenants
/// page (<c>from</c> and <c>to</c> as <c>yyyy-MM-dd</c>, UTC, both included) or the last 30 days.
/// Example: <c>?from=2026-11-01&amp;to=2026-11-30</c> is [2026-11-01 00:00, 2026-12-01 00:00) UTC.
/// </summary>
internal static class UsageDownload
{
    /// <summary>The CSV as a download.</summary>
    public static async Task<IResult> AnswerAsync(DashboardRequest request, JobStore store, ServerSettings settings, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var query = request.Http.Request.Query;
        var (from, fromProblem) = Day(query["from"].ToString(), "from");
        var (to, toProblem) = Day(query["to"].ToString(), "to");
        if ((fromProblem ?? toProblem) is { } problem) return DashboardLayout.Problem(request.Http, StatusCodes.Status400BadRequest, "Bad period", problem);
        var end = to?.AddDays(1) ?? now;
        var start = from ?? end.AddDays(-30);
        if (end <= start) return DashboardLayout.Problem(request.Http, StatusCodes.Status400BadRequest, "Bad period", "to: must not be before from");
        if (end - start > TimeSpan.FromDays(3660)) return DashboardLayout.Problem(request.Http, StatusCodes.Status400BadRequest, "Bad period", "to: a period of at most ten years");
        var tenant = request.Caller.Role == Role.Admin ? null : request.Caller.Tenant;
        var rows = await UsageEndpoints.RowsAsync(store, settings, start, end, tenant, now, request.Http.RequestAborted);
        var response = request.Http.Response;
        response.Headers.ContentDisposition = $"attachment; filename=\"gpufleet-usage-{start.UtcDateTime:yyyy-MM-dd}-{end.AddDays(-1).UtcDateTime:yyyy-MM-dd}.csv\"";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        return Results.Text(UsageEndpoints.Csv(rows), "text/csv; charset=utf-8");
    }

    // A day as the date input sends it; absent is null, anything else a problem naming the field.
    private static (DateTimeOffset? Day, string? Problem) Day(string text, string field) =>
        text.Length == 0 ? (null, null)
        : DateTime.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day)
            ? (new DateTimeOffset(day, TimeSpan.Zero), null)
            : (null, $"{field}: must be a day as yyyy-MM-dd");
}
