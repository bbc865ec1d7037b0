using GpuFleet.Server.Api;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// A job's page: its facts, why it waits (pending), where it runs (site, nodes in host-list form, GPUs),
/// GPU-seconds charged, its state history, the end of its log, and the command line that submits it again.
/// </summary>
internal static class JobPage
{
    /// <summary>Most bytes of the log's end shown.</summary>
    public const int LogTailBytes = 64 * 1024;

    /// <summary>The page's main part.</summary>
    public static Html Main(DashboardRequest request, StoredJob job, IReadOnlyList<JobEvent> history, IReadOnlyList<NodeView>? nodes,
        double gpuSeconds, double energyKwh, string? why, DateTimeOffset? estimatedStart, string? log, bool logCut, string? notice,
        string defaultClass, Execution.WaitingRun? waitingInCluster = null)
    {
        var state = job.State.ToString().ToLowerInvariant();
        var (site, model) = JobPlacement.SiteAndModel(job.Placement);
        var waits = job.State == JobState.Pending
            ? Html.Of($"""
                <dt>Why it waits</dt><dd>{why ?? ReasonText.NotKnownHere}</dd>
                <dt>Estimated start</dt><dd>{(estimatedStart is { } s ? DashboardFormat.Time(s) : "not known")}</dd>
                """)
            : waitingInCluster is { } w
                ? Html.Of($"""
                    <dt>Waiting in its cluster</dt><dd>since {DashboardFormat.Time(w.Since)}: {w.Reason ?? "the cluster gives no reason"} <span class="muted">(placed, not started yet; GpuFleet queues it again if its cluster does not start it in time)</span></dd>
                    """)
                : Html.Empty;
        var placement = job.Placement is null
            ? Html.Of($"<p class=\"muted\">Not placed.</p>")
            : Html.Of($"""
                <dl class="facts">
                  <dt>Site</dt><dd>{site ?? "—"}</dd><dt>Model</dt><dd>{model ?? "—"}</dd>
                  <dt>Nodes</dt><dd><code>{JobPlacement.HostList(job.Placement) ?? job.Placement}</code></dd>
                  <dt>GPUs</dt><dd>{(nodes is null ? job.Spec.Gpus.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{nodes.Sum(n => n.Gpus.Count)} on {nodes.Count} nodes")}</dd>
                </dl>
                """);
        var events = Html.Join(history.Select(e => Html.Of($"<tr><td>{DashboardFormat.Time(e.At)}</td><td><span class=\"state state-{e.State.ToString().ToLowerInvariant()}\">{e.State.ToString().ToLowerInvariant()}</span></td><td>{e.Detail ?? ""}</td></tr>")));
        var logHtml = log is null
            ? Html.Of($"<p class=\"muted\">No log here: the job has not written one yet, or its executor keeps none.</p>")
            : Html.Of($"{(logCut ? Html.Of($"<p class=\"muted\">The last {LogTailBytes / 1024} KiB.</p>") : Html.Empty)}<pre tabindex=\"0\" aria-label=\"Log of job {job.Id}\">{log}</pre>");
        var cancel = request.Caller.CanWrite && !JobTransitions.IsFinal(job.State)
            ? Html.Of($"""<form method="post" action="/queue/cancel">{request.AntiforgeryField}<input type="hidden" name="id" value="{job.Id}"><input type="hidden" name="back" value="job"><button type="submit" class="danger">Cancel job {job.Id}</button></form>""")
            : Html.Empty;
        var noticeHtml = notice is null ? Html.Empty : Html.Of($"<p class=\"notice\" role=\"status\">{notice}</p>");
        return Html.Of($"""
            {noticeHtml}
            <dl class="facts">
              <dt>Name</dt><dd>{job.Spec.Name}</dd>
              <dt>Tenant</dt><dd>{job.Tenant}</dd>
              <dt>State</dt><dd><span class="state state-{state}">{state}</span>{(job.Detail is { } d ? $" — {d}" : "")}</dd>
              <dt>Submitted</dt><dd>{DashboardFormat.Time(job.SubmittedAt)}</dd>
              <dt>Asks for</dt><dd>{job.Spec.Gpus} GPUs of {(job.Spec.Models.Count == 0 ? "any model" : string.Join(", ", job.Spec.Models))} at {job.Spec.Site ?? "any site"}, span {Core.Workloads.JobFieldRules.TopologyName(job.Spec.Topology)}, for at most {DashboardFormat.Duration(TimeSpan.FromSeconds(job.Spec.TimeLimitSeconds))}</dd>
              <dt>Priority</dt><dd>{job.Spec.PriorityClass ?? defaultClass}, {job.Spec.Priority}</dd>
              <dt>GPU-seconds charged</dt><dd>{DashboardFormat.Count(gpuSeconds)} ({DashboardFormat.One(gpuSeconds / 3600)} GPU-hours)</dd>
              <dt>Energy charged</dt><dd>{DashboardFormat.One(energyKwh)} kWh <span class="muted">(busy power of its GPUs × the site's PUE)</span></dd>
              {waits}
            </dl>
            {cancel}
            <h2>Placement</h2>
            {placement}
            <h2>Preemptions</h2>
            {Preemptions(history)}
            <h2>History</h2>
            <div class="scroll" role="region" aria-label="History" tabindex="0">
            <table><thead><tr><th scope="col">When</th><th scope="col">State</th><th scope="col">Detail</th></tr></thead><tbody>{events}</tbody></table>
            </div>
            <h2>Submit it again</h2>
            <pre tabindex="0" aria-label="Command line"><code>{SubmitCommand.Of(job.Spec)}</code></pre>
            <p>Or as a job file for <code>gpufleet submit --file job.yaml</code>:</p>
            <pre tabindex="0" aria-label="Job file"><code>{SubmitCommand.JobFile(job.Spec)}</code></pre>
            <h2>Log</h2>
            {logHtml}
            """);
    }

    // Each eviction in the history: when, why (reclaim or priority), and the job that gained its GPUs.
    private static Html Preemptions(IReadOnlyList<JobEvent> history)
    {
        var rows = history.Where(e => e.State == JobState.Pending).Select(e => (e, p: PreemptedDetail.Read(e.Detail)))
            .Where(x => x.p is not null)
            .Select(x => Html.Of($"""<tr><td>{DashboardFormat.Time(x.e.At)}</td><td>{x.p!.Value.Kind}</td><td><a href="/jobs/{x.p.Value.Gainer}">job {x.p.Value.Gainer}</a> of {x.p.Value.Tenant}</td></tr>"""))
            .ToList();
        return rows.Count == 0
            ? Html.Of($"<p class=\"muted\">Never preempted.</p>")
            : Html.Of($"""
                <div class="scroll" role="region" aria-label="Preemptions" tabindex="0">
                <table><thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Its GPUs went to</th></tr></thead><tbody>{Html.Join(rows)}</tbody></table>
                </div>
                """);
    }
}
