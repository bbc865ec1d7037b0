using System.Globalization;
using GpuFleet.Server.Api;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The services page: each inference service with its replica shape, its request rate, the replicas it
/// runs against those its rate wants, those waiting (and since when), where they run, and the leader's
/// latest scale decision — what <c>GET /api/v1/services</c> answers, with the same filter (a tenant's token
/// sees its tenant's services). The table refreshes every few seconds from <c>/services/live</c>.
/// </summary>
/// <remarks>
/// Example: service <c>chat</c> of tenant a, 1 GPU per replica at 120 requests/s and target 0.7, min 1, max 10,
/// at 500 requests/s: "6 of 6 wanted (min 1, max 10)", and each running replica's site and nodes; had the
/// scheduler refused a replica, the last decision says why.
/// </remarks>
internal static class ServicesPage
{
    // Running replicas listed by name before the rest are counted: a service of hundreds of replicas stays one row.
    private const int ReplicasNamed = 4;

    /// <summary>The page's main part.</summary>
    public static Html Main(IReadOnlyList<ServiceView> services, DateTimeOffset at) =>
        Html.Of($"""
            {DashboardLayout.LiveRegion("services-live", "/services/live", Live(services, at))}
            <p class="muted">The same from a terminal: <code>gpufleet service list</code>, <code>gpufleet service show NAME</code>;
              a service's rate comes from <code>POST /api/v1/services/NAME/load</code> or its Prometheus query.</p>
            """);

    /// <summary>The refreshed part: the services.</summary>
    public static Html Live(IReadOnlyList<ServiceView> services, DateTimeOffset at)
    {
        var rows = services.Count == 0
            ? Html.Of($"<tr><td colspan=\"7\">No services. Create one with <code>gpufleet service create</code> or <code>POST /api/v1/services</code>.</td></tr>")
            : Html.Join(services.Select(Row));
        return Html.Of($"""
            <p class="muted">As of {DashboardFormat.Time(at)}. A service wants ⌈rate ÷ (requests/s per replica × target utilization)⌉ replicas, within its minimum and maximum, unless pinned by hand.</p>
            <div class="scroll" role="region" aria-label="Services" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Service</th><th scope="col">Tenant</th><th scope="col">Replica</th><th scope="col" class="num">Rate</th>
                <th scope="col">Replicas</th><th scope="col">Where</th><th scope="col">Last decision</th></tr></thead>
              <tbody>{rows}</tbody>
            </table>
            </div>
            """);
    }

    private static Html Row(ServiceView s)
    {
        var shortOf = s.RunningReplicas < s.DesiredReplicas;
        var waiting = s.Pending.Count == 0 ? Html.Empty
            : Html.Of($"<br><span class=\"muted\">{s.PendingReplicas.ToString(CultureInfo.InvariantCulture)} waiting since {DashboardFormat.Time(s.Pending.Min(p => p.SubmittedAt))}</span>");
        var pinned = s.PinnedReplicas is { } pin ? Html.Of($"<br><span class=\"muted\">pinned at {pin.ToString(CultureInfo.InvariantCulture)} by hand</span>") : Html.Empty;
        var latency = s.Region is null ? Html.Empty
            : Html.Of($"<br><span class=\"muted\">users in {s.Region}{(s.LatencyBudgetMs is { } ms ? $", within {DashboardFormat.One(ms)} ms" : "")}</span>");
        var scrape = s.Scrape is { Error: { } error } ? Html.Of($"<br><span class=\"muted\">last scrape failed: {error}</span>") : Html.Empty;
        var rateAt = s.RateAt is { } when ? Html.Of($"<br><span class=\"muted\">as of {DashboardFormat.Time(when)}</span>") : Html.Empty;
        // Standby replicas run beyond those wanted and serve nothing: counted apart, not as replicas wanted.
        var serving = Core.Services.ServiceScaler.Serving(s.RunningReplicas, s.DesiredReplicas, s.StandbyReplicas);
        var standby = s.StandbyReplicas == 0 ? Html.Empty
            : Html.Of($"<br><span class=\"muted\">{(s.RunningReplicas - serving).ToString(CultureInfo.InvariantCulture)} of {s.StandbyReplicas.ToString(CultureInfo.InvariantCulture)} standing by</span>");
        return Html.Of($"""
            <tr id="service-{s.Name}" data-short="{(shortOf ? "true" : "false")}"><th scope="row">{s.Name}{(s.PriorityClass is { } pc ? Html.Of($" <span class=\"muted\">({pc})</span>") : Html.Empty)}{latency}</th>
              <td data-label="Tenant">{s.Tenant}</td>
              <td data-label="Replica">{Shape(s)}<br><span class="muted">{DashboardFormat.One(s.RequestsPerSecondPerReplica)} requests/s each, run at {DashboardFormat.Percent(s.TargetUtilization, 1)}</span></td>
              <td class="num" data-label="Rate">{DashboardFormat.One(s.RequestsPerSecond)} requests/s{rateAt}{scrape}</td>
              <td data-label="Replicas">{(shortOf ? Html.Of($"<strong>") : Html.Empty)}{serving.ToString(CultureInfo.InvariantCulture)} of {s.DesiredReplicas.ToString(CultureInfo.InvariantCulture)} wanted{(shortOf ? Html.Of($"</strong>") : Html.Empty)}
                <span class="muted">(min {s.MinReplicas.ToString(CultureInfo.InvariantCulture)}, max {s.MaxReplicas.ToString(CultureInfo.InvariantCulture)})</span>{standby}{pinned}{waiting}</td>
              <td data-label="Where">{Where(s.Running)}</td>
              <td data-label="Last decision">{Decision(s.Decisions.Count == 0 ? null : s.Decisions[^1])}</td></tr>
            """);
    }

    // "1 GPU", "2 GPUs of H100, H200", "MIG 1g.23gb", "0.25 of a GPU, 20 GB"; with CPU cores and memory per GPU when asked.
    private static string Shape(ServiceView s)
    {
        var gpus = s.Slice switch
        {
            { MigProfile: { } profile } => $"MIG {profile}",
            { GpuFraction: { } fraction } slice => $"{fraction.ToString("0.##", CultureInfo.InvariantCulture)} of a GPU, {DashboardFormat.One(slice.GpuMemoryGb ?? 0)} GB",
            _ => s.GpusPerReplica == 1 ? "1 GPU" : $"{s.GpusPerReplica.ToString(CultureInfo.InvariantCulture)} GPUs",
        };
        var models = s.Models.Count == 0 ? "" : $" of {string.Join(", ", s.Models)}";
        var host = (s.CpusPerGpu, s.MemoryGbPerGpu) switch
        {
            (0, 0) => "",
            var (cpus, memory) => $", {DashboardFormat.One(cpus)} cores and {DashboardFormat.One(memory)} GB per GPU",
        };
        return gpus + models + host;
    }

    private static Html Where(IReadOnlyList<ReplicaView> running)
    {
        if (running.Count == 0) return Html.Of($"<span class=\"muted\">none running</span>");
        var named = running.Take(ReplicasNamed).Select(r => Html.Of($"{r.Site}: {r.Hosts}"));
        var more = running.Count > ReplicasNamed ? [Html.Of($"<span class=\"muted\">and {(running.Count - ReplicasNamed).ToString(CultureInfo.InvariantCulture)} more</span>")] : Array.Empty<Html>();
        return Html.Join(named.Concat(more).Select((line, i) => i == 0 ? line : Html.Of($"<br>{line}")));
    }

    private static Html Decision(Storage.ServiceDecision? d)
    {
        if (d is null) return Html.Of($"<span class=\"muted\">none yet</span>");
        var what = $"wanted {d.DesiredReplicas.ToString(CultureInfo.InvariantCulture)}: {d.Submitted.ToString(CultureInfo.InvariantCulture)} submitted, {d.Ended.ToString(CultureInfo.InvariantCulture)} ended";
        var refused = d.Refused is { } why ? Html.Of($"<br><strong>refused:</strong> {why}") : Html.Empty;
        return Html.Of($"{DashboardFormat.Time(d.At)}<br><span class=\"muted\">{what}</span>{refused}");
    }
}
