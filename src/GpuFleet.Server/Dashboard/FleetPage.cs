using GpuFleet.Core.Fleets;
using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The fleet page: per site, GPUs busy, idle and out of service, power drawn against the cap, energy
/// today, the busy share over the last hours and the executor's health; then per pool (one GPU model
/// at one site) the same GPU counts — the scheduler's snapshot that <c>GET /api/v1/sites</c> answers,
/// aggregates only (one row per site and pool whatever the fleet's size). The tables refresh every
/// few seconds from <c>/fleet/live</c>.
/// </summary>
internal static class FleetPage
{
    // Nodes the cluster lists that GpuFleet does not schedule: how many GPUs, and each node's reason in its title.
    private static Html Unscheduled(FleetSnapshot.SiteView site) => site.UnscheduledNodes is { Count: > 0 } nodes
        ? Html.Of($"<br><span class=\"problem\">{DashboardFormat.Count(nodes.Sum(n => n.UnscheduledGpus))} GPUs listed, not scheduled:</span> {Html.Join(nodes.Select((n, i) => Html.Of($"{(i > 0 ? ", " : "")}<span title=\"{n.Reason}\">{n.Node}</span>")))}")
        : Html.Empty;

    // Runs the cluster has not started: GPUs counted busy that do nothing, a problem once one waits a minute; and the
    // nodes set aside after a run there was not started in time.
    private static Html Waiting(FleetSnapshot.SiteView site, DateTimeOffset at)
    {
        var aside = site.SetAsideNodes is { Count: > 0 } nodes
            ? Html.Of($"<br><span class=\"problem\">set aside: {HostList.Compress(nodes)}</span> <span class=\"muted\">(the cluster did not start a run there in time)</span>")
            : Html.Empty;
        if (site.WaitingInCluster is not { } w) return aside;
        var waited = at - w.OldestSince;
        var runs = w.Runs == 1 ? "1 run" : $"{DashboardFormat.Count(w.Runs)} runs";
        var style = waited >= TimeSpan.FromMinutes(1) ? "problem" : "muted";
        // Another tenant's job is counted, not named (FleetSnapshot.SiteView.SeenBy).
        var which = w.OldestJob is { } job ? Html.Of($"<a href=\"/jobs/{job}\">job {job}</a>, ") : Html.Empty;
        return Html.Of($"<br><span class=\"{style}\">{runs} not started by the cluster</span> <span class=\"muted\">longest: {which}{DashboardFormat.Duration(waited)}{(w.OldestReason is { } r ? Html.Of($", {r}") : Html.Empty)}</span>{aside}");
    }

    /// <summary>The page's main part: the live region around <see cref="Live"/>.</summary>
    public static Html Main(FleetSnapshot view) => DashboardLayout.LiveRegion("fleet-live", "/fleet/live", Live(view));

    /// <summary>The refreshed part.</summary>
    public static Html Live(FleetSnapshot view)
    {
        var rows = Html.Join(view.Sites.Select(s =>
        {
            var idle = Math.Max(0, s.Gpus - s.BusyGpus - s.OutOfServiceGpus);
            var health = s.Reachable switch
            {
                null => Html.Of($"{s.Executor}"),
                true => Html.Of($"{s.Executor}: reachable{(s.LastContact is { } at ? Html.Of($"<br><span class=\"muted\">last contact {DashboardFormat.Time(at)}</span>") : Html.Empty)}{Waiting(s, view.At)}{Unscheduled(s)}"),
                false => Html.Of($"<span class=\"problem\">{s.Executor}: not reachable</span>{(s.LastContact is { } at ? Html.Of($"<br><span class=\"muted\">last contact {DashboardFormat.Time(at)}</span>") : Html.Empty)}{(s.ExecutorError is { } e ? Html.Of($"<br><span class=\"muted\">{e}</span>") : Html.Empty)}"),
            };
            return Html.Of($"""
                <tr><th scope="row">{s.Site} <span class="muted">({s.Owner})</span></th><td class="num" data-label="GPUs">{DashboardFormat.Count(s.Gpus)}</td>
                  <td class="num" data-label="Busy">{DashboardFormat.Count(s.BusyGpus)} <span class="muted">({DashboardFormat.Percent(s.BusyGpus, s.Gpus)})</span></td>
                  <td class="num" data-label="Idle">{DashboardFormat.Count(idle)}</td><td class="num" data-label="Out of service">{DashboardFormat.Count(s.OutOfServiceGpus)}{(s.HeldByOthersGpus > 0 ? Html.Of($"<br><span class=\"muted\">{DashboardFormat.Count(s.HeldByOthersGpus)} held by the cluster's own users</span>") : Html.Empty)}</td>
                  <td class="num" data-label="Power / cap">{s.PowerMw:0.00} / {s.PowerCapMw:0.00} MW <span class="muted">({DashboardFormat.Percent(s.PowerMw, s.PowerCapMw)})</span></td>
                  <td class="num" data-label="Energy today">{Energy(s)}</td><td data-label="Busy, last 6 h">{UseSparkline.Of(s.History, s.Gpus, view.At)}</td><td data-label="Executor">{health}</td></tr>
                """);
        }));
        var pools = Html.Join(view.Sites.SelectMany(s => (s.Pools ?? []).Select(p => Html.Of($"""
            <tr><th scope="row"><a href="/fleet/pool?site={s.Site}&amp;model={p.Model}">{s.Site} · {p.Model}</a></th><td class="num" data-label="GPUs">{DashboardFormat.Count(p.Gpus)}</td>
              <td class="num" data-label="Busy">{DashboardFormat.Count(p.BusyGpus)} <span class="muted">({DashboardFormat.Percent(p.BusyGpus, p.Gpus)})</span></td>
              <td class="num" data-label="Idle">{DashboardFormat.Count(Math.Max(0, p.Gpus - p.BusyGpus - p.OutOfServiceGpus))}</td><td class="num" data-label="Out of service">{DashboardFormat.Count(p.OutOfServiceGpus)}</td>
              <td class="num" data-label="Nodes">{DashboardFormat.Count(p.Nodes)}</td><td class="num" data-label="NVLink domains">{DashboardFormat.Count(p.Domains)}</td></tr>
            """))));
        int gpus = view.Sites.Sum(s => s.Gpus), busy = view.Sites.Sum(s => s.BusyGpus), down = view.Sites.Sum(s => s.OutOfServiceGpus);
        double power = view.Sites.Sum(s => s.PowerMw), cap = view.Sites.Sum(s => s.PowerCapMw);
        return Html.Of($"""
            <p class="muted">As of {DashboardFormat.Time(view.At)}.</p>
            <div class="scroll" role="region" aria-label="Sites" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Site</th><th scope="col" class="num">GPUs</th><th scope="col" class="num">Busy</th><th scope="col" class="num">Idle</th>
                <th scope="col" class="num">Out of service</th><th scope="col" class="num">Power / cap</th><th scope="col" class="num">Energy today</th><th scope="col">Busy, last 6 h</th><th scope="col">Executor</th></tr></thead>
              <tbody>{rows}</tbody>
              <tfoot><tr><th scope="row">All {view.Sites.Count} {(view.Sites.Count == 1 ? "site" : "sites")}</th><td class="num" data-label="GPUs">{DashboardFormat.Count(gpus)}</td><td class="num" data-label="Busy">{DashboardFormat.Count(busy)} ({DashboardFormat.Percent(busy, gpus)})</td>
                <td class="num" data-label="Idle">{DashboardFormat.Count(Math.Max(0, gpus - busy - down))}</td><td class="num" data-label="Out of service">{DashboardFormat.Count(down)}</td><td class="num" data-label="Power / cap">{power:0.00} / {cap:0.00} MW</td>
                <td class="num" data-label="Energy today">{DashboardFormat.Energy(view.Sites.Sum(s => s.EnergyTodayMwh ?? 0))}</td><td data-label=""></td><td data-label=""></td></tr></tfoot>
            </table>
            </div>
            <h2>Pools</h2>
            <div class="scroll" role="region" aria-label="Pools" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Site · model</th><th scope="col" class="num">GPUs</th><th scope="col" class="num">Busy</th><th scope="col" class="num">Idle</th>
                <th scope="col" class="num">Out of service</th><th scope="col" class="num">Nodes</th><th scope="col" class="num">NVLink domains</th></tr></thead>
              <tbody>{pools}</tbody>
            </table>
            </div>
            """);
    }

    /// <summary>Energy drawn today, with the time counting began when that was after midnight (a new leader).</summary>
    private static Html Energy(FleetSnapshot.SiteView s) => s.EnergyTodayMwh is not { } mwh ? Html.Of($"—")
        : s.EnergySince is { } since && since.TimeOfDay != TimeSpan.Zero
            ? Html.Of($"{DashboardFormat.Energy(mwh)} <span class=\"muted\">since {since.UtcDateTime:HH:mm} UTC</span>")
            : Html.Of($"{DashboardFormat.Energy(mwh)}");
}
