using System.Globalization;
using GpuFleet.Server.Twin;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// One twin run's page: its inputs, then a region the page's script refreshes from
/// <c>/twin/runs/{id}/status</c> every 2 s — state, progress bar and a Cancel button while it is queued or
/// running; once it has ended, the outcome: the four charts side by side (utilization, wait distribution,
/// per-tenant share, power against the cap, each with a text alternative and a caption), the figures per
/// policy and every tenant's share as tables, and the JSON report to download. The region carries a
/// <c>data-final</c> mark once the run has ended, and the script stops there. Without script, a Refresh link.
/// </summary>
internal static class TwinRunPage
{
    /// <summary>Seconds between the status region's refreshes.</summary>
    public const int RefreshSeconds = 2;

    /// <summary>Most tenants in the share table (the largest; the JSON report has them all).</summary>
    public const int MaxTenantRows = 200;

    /// <summary>The page's main part.</summary>
    public static Html Main(DashboardRequest request, TwinRun run, TwinRunQueue queue, string? notice)
    {
        var r = run.Request;
        var noticeHtml = notice is null ? Html.Empty : Html.Of($"<p class=\"notice\" role=\"status\">{notice}</p>");
        var ended = run.Status.Ended;
        return Html.Of($"""
            {noticeHtml}
            <dl class="facts">
              <dt>Fleet</dt><dd>{r.FleetName} <span class="muted">({DashboardFormat.Count(r.Fleet.TotalGpus)} GPUs at {r.Fleet.Sites.Count} {(r.Fleet.Sites.Count == 1 ? "site" : "sites")})</span></dd>
              <dt>Tenant tree</dt><dd>{r.TenantsName ?? "none"}</dd>
              <dt>Trace</dt><dd>{r.Trace.Describe()}{(r.Jobs is { } jobs ? $" ({DashboardFormat.Count(jobs)} jobs)" : "")}</dd>
              <dt>Policies</dt><dd>{string.Join(", ", r.Policies.Select(p => p.Name))}</dd>
              <dt>Started by</dt><dd>{TwinPage.Owner(run)}</dd>
              <dt>Queued</dt><dd>{DashboardFormat.Time(run.SubmittedAt)}</dd>
            </dl>
            <div class="status-line"><span data-stamp-for="twin-status">{(ended ? "" : $"Updates every {RefreshSeconds} s.")}</span>
              <button type="button" data-pause-for="twin-status" aria-pressed="false" hidden>Pause updates</button></div>
            <div id="twin-status" data-refresh="/twin/runs/{run.Id}/status" data-every="{RefreshSeconds}">{Status(request, run, queue)}</div>
            <p><a href="/twin">Back to the Twin page</a></p>
            """);
    }

    /// <summary>The refreshed region: where the run is, or (ended) what came of it.</summary>
    public static Html Status(DashboardRequest request, TwinRun run, TwinRunQueue queue)
    {
        var status = run.Status;
        var state = status.State.ToString().ToLowerInvariant();
        var badge = Html.Of($"<span class=\"state state-{state}\">{state}</span>");
        if (!status.Ended)
        {
            var percent = (int)Math.Floor(status.Progress * 100);
            var cancel = request.Caller.CanWrite
                ? Html.Of($"""<form method="post" action="/twin/runs/{run.Id}/cancel">{request.AntiforgeryField}<button type="submit" class="danger">Cancel run {run.Id}</button></form>""")
                : Html.Empty;
            return Html.Of($"""
                <p>{badge} {TwinPage.Progress(status, queue.Position(run))}</p>
                <p class="progress"><label for="twin-progress">Progress</label>
                  <progress id="twin-progress" max="100" value="{percent}">{percent}%</progress> <span>{percent}%</span></p>
                <p class="muted">This part refreshes itself; without script, <a href="/twin/runs/{run.Id}">refresh the page</a>.</p>
                {cancel}
                """);
        }
        var took = status is { StartedAt: { } from, FinishedAt: { } to } ? $" in {DashboardFormat.Duration(to - from)}" : "";
        if (status.State != TwinRunState.Succeeded || run.Result is not { } result)
        {
            var what = status.State == TwinRunState.Failed
                ? Html.Of($"<p class=\"problem\">The run failed{took}: {status.Error ?? "no reason given"}</p>")
                : Html.Of($"<p>The run was {status.Stage}.</p>");
            return Html.Of($"<span data-final hidden></span><p>{badge}</p>{what}");
        }
        return Html.Of($"""
            <span data-final hidden></span>
            <p>{badge} Simulated{took}. <a href="/twin/runs/{run.Id}/report.json" download="twin-{run.Id}.json">Download the JSON report</a>
              <span class="muted">(the report <code>gpufleet simulate --json</code> writes for the same inputs)</span></p>
            <h2 id="twin-charts">Charts</h2>
            <div class="charts">{Charts(run, result)}</div>
            <h2 id="twin-figures">Figures per policy</h2>
            {Figures(result.Reports)}
            <h2 id="twin-tenants">Share of GPU-hours per tenant</h2>
            {Tenants(result)}
            """);
    }

    private static Html Charts(TwinRun run, TwinResult result)
    {
        var reports = result.Reports;
        string Each(Func<SimulationReport, string> figure) => string.Join(", ", reports.Select(p => $"{p.Policy} {figure(p)}"));
        var largest = result.TenantShares.OrderByDescending(t => t.Value.Max()).ThenBy(t => t.Key, StringComparer.Ordinal).Take(3)
            .Select(t => $"{t.Key} {string.Join(" / ", t.Value.Select(Share))}").ToList();
        var texts = new Dictionary<string, (string Alt, string Caption)>
        {
            ["utilization.svg"] = (
                $"Line chart of GPU utilization (0 to 1) over the days of the run, one line per policy. Over the whole run: {Each(p => Share(p.Utilization))}.",
                "Utilization: busy GPUs over all GPUs, hourly means."),
            ["wait-cdf.svg"] = (
                $"Cumulative distribution of waiting times, one line per policy. Median wait: {Each(p => Wait(p.P50WaitSeconds))}; 99th percentile: {Each(p => Wait(p.P99WaitSeconds))}.",
                "Wait distribution: the share of jobs (up) that waited at most a given time (across: log10 of 1 + minutes)."),
            ["tenant-share.svg"] = (
                largest.Count == 0 ? "Bar chart of each tenant's share of GPU-hours: no tenant ran anything."
                    : $"Horizontal bar chart of each tenant's share of the GPU-hours, one bar per policy ({string.Join(" / ", reports.Select(p => p.Policy))}). Largest: {string.Join("; ", largest)}. The table below lists every tenant.",
                "Per-tenant share: each tenant's part of the GPU-hours that ran, largest first."),
            ["power.svg"] = (
                $"Line chart of the fleet's facility power in MW over the days of the run, one line per policy, with the sum of the sites' power caps ({result.PowerCapMw.ToString("0.00", CultureInfo.InvariantCulture)} MW) dashed. Peak: {Each(p => p.PeakPowerMw.ToString("0.00", CultureInfo.InvariantCulture) + " MW")}.",
                "Power against the cap: facility power (GPUs × PUE), hourly means; dashed, the sum of the sites' caps."),
        };
        return Html.Join(result.Charts.Select(c =>
        {
            var (alt, caption) = texts.TryGetValue(c.File, out var t) ? t : (c.Title, c.Title);
            return Html.Of($"""
                <figure class="chart"><img src="/twin/runs/{run.Id}/charts/{c.File}" alt="{alt}" width="{GpuFleet.Simulation.Charts.PolicyCharts.Width}" height="{GpuFleet.Simulation.Charts.PolicyCharts.Height}"><figcaption>{caption}</figcaption></figure>
                """);
        }));
    }

    private static Html Figures(IReadOnlyList<SimulationReport> reports)
    {
        var rows = new (string Label, Func<SimulationReport, string> Value)[]
        {
            ("Jobs run", p => DashboardFormat.Count(p.Jobs)),
            ("Jobs refused (never fit)", p => DashboardFormat.Count(p.RejectedJobs + p.NeverFitJobs)),
            ("Utilization", p => Share(p.Utilization)),
            ("Mean wait", p => Wait(p.MeanWaitSeconds)),
            ("Median wait", p => Wait(p.P50WaitSeconds)),
            ("95th percentile wait", p => Wait(p.P95WaitSeconds)),
            ("99th percentile wait", p => Wait(p.P99WaitSeconds)),
            ("Mean completion time", p => Wait(p.MeanJctSeconds)),
            ("Makespan", p => Wait(p.MakespanSeconds)),
            ("Idle GPU-hours while jobs waited", p => DashboardFormat.Count(p.IdleGpuHoursWhileWaiting)),
            ("Peak power / cap", p => $"{p.PeakPowerMw.ToString("0.00", CultureInfo.InvariantCulture)} / {p.SitePowerCapMw.Values.Sum().ToString("0.00", CultureInfo.InvariantCulture)} MW"),
            ("Energy", p => $"{DashboardFormat.One(p.EnergyKwh / 1000)} MWh"),
            ("Preemptions", p => DashboardFormat.Count(p.Preemptions)),
        };
        var head = Html.Join(reports.Select(p => Html.Of($"<th scope=\"col\" class=\"num\">{p.Policy}</th>")));
        var body = Html.Join(rows.Select(row => Html.Of($"<tr><th scope=\"row\">{row.Label}</th>{Html.Join(reports.Select(p => Html.Of($"<td class=\"num\">{row.Value(p)}</td>")))}</tr>")));
        return Html.Of($"""
            <div class="scroll" role="region" aria-labelledby="twin-figures" tabindex="0">
            <table><thead><tr><th scope="col">Figure</th>{head}</tr></thead><tbody>{body}</tbody></table>
            </div>
            """);
    }

    private static Html Tenants(TwinResult result)
    {
        if (result.TenantShares.Count == 0) return Html.Of($"<p class=\"muted\">No tenant ran anything.</p>");
        var shown = result.TenantShares.OrderByDescending(t => t.Value.Max()).ThenBy(t => t.Key, StringComparer.Ordinal).Take(MaxTenantRows).ToList();
        var head = Html.Join(result.Reports.Select(p => Html.Of($"<th scope=\"col\" class=\"num\">{p.Policy}</th>")));
        var body = Html.Join(shown.Select(t => Html.Of($"<tr><th scope=\"row\">{t.Key}</th>{Html.Join(t.Value.Select(v => Html.Of($"<td class=\"num\">{Share(v)}</td>")))}</tr>")));
        var note = result.TenantShares.Count > shown.Count
            ? Html.Of($"<p class=\"muted\">The {shown.Count} largest of {DashboardFormat.Count(result.TenantShares.Count)} tenants; the JSON report has them all.</p>")
            : Html.Empty;
        return Html.Of($"""
            {note}
            <div class="scroll tall" role="region" aria-labelledby="twin-tenants" tabindex="0">
            <table><thead><tr><th scope="col">Tenant</th>{head}</tr></thead><tbody>{body}</tbody></table>
            </div>
            """);
    }

    private static string Share(double share) => share.ToString("0.0%", CultureInfo.InvariantCulture);

    private static string Wait(double seconds) => DashboardFormat.Duration(TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2)));
}
