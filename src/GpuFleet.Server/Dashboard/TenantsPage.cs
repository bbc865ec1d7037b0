using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The tenants page: each tenant node's guarantee, GPUs used, borrowed and lent, and idle guarantee, in
/// total and per GPU model; its fair-share standing among its siblings; and each project's grants
/// burning down — what <c>GET /api/v1/queues</c> and <c>/grants</c> answer, with the same filter (a
/// tenant's token sees its own node and its owner). The tables refresh every few seconds from
/// <c>/tenants/live</c>.
/// </summary>
internal static class TenantsPage
{
    /// <summary>The page's main part.</summary>
    public static Html Main(FleetSnapshot view, IReadOnlyList<FleetSnapshot.QueueView> queues, IReadOnlyList<FleetSnapshot.GrantView> grants) =>
        Html.Of($"""
            {DashboardLayout.LiveRegion("tenants-live", "/tenants/live", Live(view, queues, grants))}
            <h2>Usage</h2>
            <form class="filters" method="get" action="/tenants/usage.csv">
              <label>From (UTC) <input type="date" name="from"></label>
              <label>To, included <input type="date" name="to"></label>
              <button type="submit">Download the usage CSV</button>
            </form>
            <p class="muted">GPU-hours, energy and cost per tenant, model and site, as <code>GET /api/v1/usage?format=csv</code> reports them; without dates, the last 30 days.
              The same from a terminal: <code>gpufleet usage --from … --to … --csv</code>.</p>
            """);

    /// <summary>The refreshed part: the tenants and the grants.</summary>
    public static Html Live(FleetSnapshot view, IReadOnlyList<FleetSnapshot.QueueView> queues, IReadOnlyList<FleetSnapshot.GrantView> grants)
    {
        var fairShare = queues.Any(q => q.FairShare is not null);
        var rows = Html.Join(queues.Select(q =>
        {
            var models = q.Models ?? [];
            // One model: its row would repeat the tenant's; several: a row per model under the tenant.
            var perModel = models.Count < 2 ? Html.Empty : Html.Join(models.Select(m => Html.Of($"""
                <tr class="sub"><th scope="row"><span class="visually-hidden">{q.Tenant}, </span>{m.Model}</th><td data-label="Owner"></td>
                  <td class="num" data-label="Guarantee">{DashboardFormat.Count(m.GuaranteeGpus)}</td><td class="num" data-label="Used">{DashboardFormat.Count(m.UsedGpus)}</td><td class="num" data-label="Borrowed">{DashboardFormat.Count(m.BorrowedGpus)}</td>
                  <td class="num" data-label="Lent">{DashboardFormat.One(m.LentGpus)}</td><td class="num" data-label="Idle guarantee">{DashboardFormat.Count(m.IdleGuaranteeGpus)}</td>{(fairShare ? Html.Of($"<td data-label=\"Fair share\"></td>") : Html.Empty)}</tr>
                """)));
            var single = models.Count == 1 ? Html.Of($" <span class=\"muted\">{models[0].Model}</span>") : Html.Empty;
            return Html.Of($"""
                <tr><th scope="row">{q.Tenant}{(q.Project ? Html.Empty : Html.Of($" <span class=\"muted\">(owner)</span>"))}{single}</th><td data-label="Owner">{(q.Owner == q.Tenant ? "—" : q.Owner)}</td>
                  <td class="num" data-label="Guarantee">{DashboardFormat.Count(q.GuaranteeGpus)}</td><td class="num" data-label="Used">{DashboardFormat.Count(q.UsedGpus)}</td><td class="num" data-label="Borrowed">{DashboardFormat.Count(q.BorrowedGpus)}</td>
                  <td class="num" data-label="Lent">{DashboardFormat.One(q.LentGpus)}</td><td class="num" data-label="Idle guarantee">{DashboardFormat.Count(q.IdleGuaranteeGpus)}</td>{(fairShare ? Html.Of($"<td data-label=\"Fair share\">{Standing(q.FairShare)}</td>") : Html.Empty)}</tr>
                {perModel}
                """);
        }));
        var grantRows = grants.Count == 0
            ? Html.Of($"<tr><td colspan=\"7\">No grants.</td></tr>")
            : Html.Join(grants.Select(g => Html.Of($"""
                <tr><th scope="row">{g.Tenant}</th><td data-label="Grant">{g.Grant}</td><td class="num" data-label="GPU-hours">{DashboardFormat.One(g.GpuHours)}</td><td class="num" data-label="Charged">{DashboardFormat.One(g.UsedGpuHours)} <span class="muted">({DashboardFormat.Percent(g.UsedGpuHours, g.GpuHours)})</span></td>
                  <td class="num" data-label="Left">{DashboardFormat.One(g.LeftGpuHours)}</td><td data-label="Period">{DashboardFormat.Time(g.Start)} – {DashboardFormat.Time(g.End)}; then {g.WhenExhausted}</td>
                  <td data-label="Burn-down"><a href="/tenants/grant?tenant={g.Tenant}&amp;grant={g.Grant}">Burn-down<span class="visually-hidden"> of {g.Tenant}'s grant {g.Grant}</span></a></td></tr>
                """)));
        return Html.Of($"""
            <p class="muted">As of {DashboardFormat.Time(view.At)}. GPUs summed over models, then per model where a tenant has several.{(fairShare ? " Fair share: rank among siblings by decayed use over weight (1 is served first)." : "")}</p>
            <div class="scroll" role="region" aria-label="Tenants" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Tenant</th><th scope="col">Owner</th><th scope="col" class="num">Guarantee</th><th scope="col" class="num">Used</th>
                <th scope="col" class="num">Borrowed</th><th scope="col" class="num">Lent</th><th scope="col" class="num">Idle guarantee</th>{(fairShare ? Html.Of($"<th scope=\"col\">Fair share</th>") : Html.Empty)}</tr></thead>
              <tbody>{rows}</tbody>
            </table>
            </div>
            <h2>Grants</h2>
            <div class="scroll" role="region" aria-label="Grants" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Project</th><th scope="col">Grant</th><th scope="col" class="num">GPU-hours</th><th scope="col" class="num">Charged</th>
                <th scope="col" class="num">Left</th><th scope="col">Period</th><th scope="col">Chart</th></tr></thead>
              <tbody>{grantRows}</tbody>
            </table>
            </div>
            """);
    }

    private static Html Standing(FleetSnapshot.FairShareStanding? s) => s is null ? Html.Empty
        : Html.Of($"{s.Rank} of {s.Siblings} <span class=\"muted\">({DashboardFormat.One(s.UsageGpuHours)} GPU-h decayed, weight {DashboardFormat.One(s.Weight)})</span>");
}
