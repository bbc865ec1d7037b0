using System.Globalization;
using System.Text;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuFleet.Server.Api;

/// <summary>
/// <c>GET /api/v1/usage?from=&amp;to=&amp;tenant=&amp;format=csv</c>: GPU-hours, energy (kWh: GPUs' busy power × the
/// site's PUE) and cost (at the site's price) per tenant, owner, GPU model and site, for a period —
/// from the jobs' recorded running intervals, so a restart or eviction is charged exactly once.
/// </summary>
public static class UsageEndpoints
{
    /// <summary>One row of a usage report.</summary>
    public sealed record UsageRow(string Tenant, string Owner, string Model, string Site, double GpuHours, double EnergyKwh, double Cost);

    /// <summary>Maps the endpoint.</summary>
    public static void Map(IEndpointRouteBuilder app) => app.MapGet("/api/v1/usage", Usage);

    /// <summary>Earliest time of a report: job times are stored as milliseconds since the Unix epoch.</summary>
    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;
    /// <summary>Latest time of a report, far enough from the calendar's end that no arithmetic on it overflows.</summary>
    public static readonly DateTimeOffset Latest = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // The times are read here rather than bound, so that a bad one is a 400 naming it, and bounded, so
    // that no date arithmetic on them can overflow (0001-01-05 minus 30 days was a 500).
    private static async Task<IResult> Usage(HttpContext context, JobStore store, ServerSettings settings, TimeProvider clock,
        string? from, string? to, string? tenant, string? format)
    {
        var caller = CallerAccess.Of(context)!;
        if (tenant is not null && RequestText.Problem(tenant) is { } badTenant)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = [badTenant] });
        if (caller.Role != Role.Admin) tenant = caller.Tenant;
        var (fromTime, badFrom) = TimeOf(from, "from");
        if (badFrom is not null) return badFrom;
        var (toTime, badTo) = TimeOf(to, "to");
        if (badTo is not null) return badTo;
        var now = clock.GetUtcNow();
        var end = toTime ?? now;
        var start = fromTime ?? (end - Earliest > TimeSpan.FromDays(30) ? end.AddDays(-30) : Earliest);
        if (end <= start) return Results.ValidationProblem(new Dictionary<string, string[]> { ["to"] = ["must be after from"] });
        if (format is not (null or "json" or "csv")) return Results.ValidationProblem(new Dictionary<string, string[]> { ["format"] = ["must be json or csv"] });
        var rows = await RowsAsync(store, settings, start, end, tenant, now, context.RequestAborted);
        return format != "csv" ? Results.Ok(new { from = start, to = end, rows }) : Results.Text(Csv(rows), "text/csv");
    }

    /// <summary>The report's rows for [<paramref name="start"/>, <paramref name="end"/>): one tenant's, or every tenant's when <paramref name="tenant"/> is null.</summary>
    public static async Task<IReadOnlyList<UsageRow>> RowsAsync(JobStore store, ServerSettings settings, DateTimeOffset start, DateTimeOffset end, string? tenant,
        DateTimeOffset now, CancellationToken cancel)
    {
        var fleet = settings.Fleet;
        return (await store.RunIntervalsAsync(start, end, tenant, now, cancel))
            .GroupBy(r => (r.Tenant, r.Model, r.Site))
            .Select(g =>
            {
                var gpuSeconds = g.Sum(r => r.Gpus * r.Seconds);
                var site = fleet.SiteIndex(g.Key.Site);
                var model = fleet.ModelIndex(g.Key.Model);
                var joules = site < 0 || model < 0 ? 0 : fleet.BusyEnergyJoules(model, site, gpuSeconds);
                return new UsageRow(g.Key.Tenant, settings.Tenants.OwnerOf(g.Key.Tenant), g.Key.Model, g.Key.Site, gpuSeconds / 3600, joules / 3.6e6,
                    site < 0 ? 0 : fleet.EnergyCost(site, joules));
            })
            .OrderBy(r => r.Tenant, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Site, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The rows as the report's CSV.</summary>
    public static string Csv(IReadOnlyList<UsageRow> rows)
    {
        var csv = new StringBuilder("tenant,owner,model,site,gpuHours,energyKwh,cost\n");
        foreach (var r in rows)
            csv.Append(CultureInfo.InvariantCulture, $"{Csv(r.Tenant)},{Csv(r.Owner)},{Csv(r.Model)},{Csv(r.Site)},{r.GpuHours:F4},{r.EnergyKwh:F4},{r.Cost:F4}\n");
        return csv.ToString();
    }

    private static (DateTimeOffset? Time, IResult? Problem) TimeOf(string? text, string field)
    {
        if (text is null) return (null, null);
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) || time < Earliest || time > Latest)
            return (null, Results.ValidationProblem(new Dictionary<string, string[]>
            {
                [field] = [$"must be an ISO 8601 time from {Earliest:yyyy-MM-dd} to {Latest:yyyy-MM-dd}, such as 2026-11-01T00:00:00Z"],
            }));
        return (time, null);
    }

    // Quote fields that could break the row, and neutralise spreadsheet formulas.
    private static string Csv(string s)
    {
        if (s.Length > 0 && "=+-@".Contains(s[0])) s = "'" + s;
        return s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }
}
