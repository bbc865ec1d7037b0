using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The tenants page: each tenant node's guarantee, GPUs used, borrowed and lent, and idle guarantee,
/// and each project's grants burning down — what <c>GET /api/v1/queues</c> and <c>/grants</c> answer,
/// with the same filter (a tenant's token sees its own node and its owner).
/// </summary>
internal static class TenantsPage
{
    /// <summary>The page's main part.</summary>
    public static Html Main(FleetSnapshot view, IReadOnlyList<FleetSnapshot.QueueView> queues, IReadOnlyList<FleetSnapshot.GrantView> grants)
    {
        var rows = Html.Join(queues.Select(q => Html.Of($"""
            <tr><th scope="row">{q.Tenant}{(q.Project ? Html.Empty : Html.Of($" <span class=\"muted\">(owner)</span>"))}</th><td data-label="Owner">{(q.Owner == q.Tenant ? "—" : q.Owner)}</td>
              <td class="num" data-label="Guarantee">{DashboardFormat.Count(q.GuaranteeGpus)}</td><td class="num" data-label="Used">{DashboardFormat.Count(q.UsedGpus)}</td><td class="num" data-label="Borrowed">{DashboardFormat.Count(q.BorrowedGpus)}</td>
              <td class="num" data-label="Lent">{DashboardFormat.One(q.LentGpus)}</td><td class="num" data-label="Idle guarantee">{DashboardFormat.Count(q.IdleGuaranteeGpus)}</td></tr>
            """)));
        var grantRows = grants.Count == 0
            ? Html.Of($"<tr><td colspan=\"6\">No grants.</td></tr>")
            : Html.Join(grants.Select(g => Html.Of($"""
                <tr><th scope="row">{g.Tenant}</th><td data-label="Grant">{g.Grant}</td><td class="num" data-label="GPU-hours">{DashboardFormat.One(g.GpuHours)}</td><td class="num" data-label="Charged">{DashboardFormat.One(g.UsedGpuHours)} <span class="muted">({DashboardFormat.Percent(g.UsedGpuHours, g.GpuHours)})</span></td>
                  <td class="num" data-label="Left">{DashboardFormat.One(g.LeftGpuHours)}</td><td data-label="Period">{DashboardFormat.Time(g.Start)} – {DashboardFormat.Time(g.End)}; then {g.WhenExhausted}</td></tr>
                """)));
        return Html.Of($"""
            <p class="muted">As of {DashboardFormat.Time(view.At)}. GPUs summed over models.</p>
            <div class="scroll" role="region" aria-label="Tenants" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Tenant</th><th scope="col">Owner</th><th scope="col" class="num">Guarantee</th><th scope="col" class="num">Used</th>
                <th scope="col" class="num">Borrowed</th><th scope="col" class="num">Lent</th><th scope="col" class="num">Idle guarantee</th></tr></thead>
              <tbody>{rows}</tbody>
            </table>
            </div>
            <h2>Grants</h2>
            <div class="scroll" role="region" aria-label="Grants" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Project</th><th scope="col">Grant</th><th scope="col" class="num">GPU-hours</th><th scope="col" class="num">Charged</th>
                <th scope="col" class="num">Left</th><th scope="col">Period</th></tr></thead>
              <tbody>{grantRows}</tbody>
            </table>
            </div>
            <h2>Usage</h2>
            <p><a href="/tenants/usage.csv" download>Download the usage CSV</a>: GPU-hours, energy and cost per tenant, model and site over the last 30 days
              (the report of <code>GET /api/v1/usage?format=csv</code>; for another period, <code>gpufleet usage --from … --to … --csv</code>).</p>
            """);
    }
}
