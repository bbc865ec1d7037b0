using System.Globalization;
using GpuFleet.Core.Scheduling;
using GpuFleet.Server.Twin;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The Twin page: the form that starts a what-if simulation — a fleet, a tenant tree or none, a trace
/// (a shipped sample, an uploaded file, or a generated workload) and the policies to compare — and the
/// runs the caller may see, newest first. The form works without script (a plain multipart POST); a
/// refused form comes back filled in as it was sent, with each problem linked to its field.
/// </summary>
internal static class TwinPage
{
    /// <summary>Policies ticked on a fresh form: two that need no tenant tree.</summary>
    private static readonly string[] DefaultPolicies = ["backfill", "fairshare"];

    /// <summary>The page's main part; <paramref name="sent"/> and <paramref name="problems"/> when a form was refused.</summary>
    public static Html Main(DashboardRequest request, TwinCatalog catalog, TwinSettings limits, IReadOnlyList<TwinRun> runs, TwinRunQueue queue,
        TwinRunRequest? sent = null, IReadOnlyDictionary<string, string[]>? problems = null, string? refusal = null)
    {
        problems ??= new Dictionary<string, string[]>();
        var canStart = request.Caller.CanWrite;
        var fleet = sent?.Fleet ?? (catalog.Fleets.ContainsKey("philly") ? "philly" : catalog.Fleets.Keys.FirstOrDefault());
        var tenants = sent?.Tenants;
        var source = sent?.Source ?? "sample";
        var trace = sent?.Trace ?? catalog.Traces.Keys.FirstOrDefault();
        var policies = sent is null ? DefaultPolicies : (sent.Policies ?? []).SelectMany(p => p.Split(',', StringSplitOptions.TrimEntries)).ToArray();
        string Number(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";
        Html Invalid(string field) => problems.ContainsKey(field) ? Html.Raw(" aria-invalid=\"true\"") : Html.Empty;

        var summary = problems.Count == 0 && refusal is null
            ? Html.Empty
            : Html.Of($"""
                <div class="problem-box" role="alert" id="twin-problems">
                  <p class="problem">{(refusal is not null ? "The run was not started: " + refusal + "." : "The run was not started:")}</p>
                  {(problems.Count == 0 ? Html.Empty : Html.Of($"<ul>{Html.Join(problems.Select(p => Html.Of($"<li><a href=\"#{AnchorOf(p.Key)}\">{p.Key}</a>: {string.Join("; ", p.Value)}</li>")))}</ul>"))}
                </div>
                """);
        var fleetOptions = Html.Join(catalog.Fleets.Keys.Select(f => Option(f, f, f == fleet)));
        var treeOptions = Html.Join(catalog.TenantTrees.Keys.Select(t => Option(t, t, t == tenants)).Prepend(Option("", "none", string.IsNullOrEmpty(tenants))));
        var traceOptions = Html.Join(catalog.Traces.Keys.Select(t => Option(t, t, t == trace)));
        var policyBoxes = Html.Join(SchedulingPolicy.All.Select((p, i) => Html.Of($"""
            <label class="check"><input type="checkbox" name="policies" value="{p.Name}" id="{(i == 0 ? "twin-policy-first" : "twin-policy-" + p.Name)}"{(policies.Contains(p.Name) ? Html.Raw(" checked") : Html.Empty)}{Invalid("policies")}> {p.Name}{(p.Quotas != QuotaMode.None ? Html.Of($" <span class=\"muted\">(needs a tenant tree)</span>") : Html.Empty)}</label>
            """)));
        var form = canStart
            ? Html.Of($"""
                <form class="twin" method="post" action="/twin/runs" enctype="multipart/form-data">
                  {request.AntiforgeryField}
                  <fieldset>
                    <legend>Fleet</legend>
                    <label for="twin-fleet">Fleet</label>
                    <select id="twin-fleet" name="fleet"{Invalid("fleet")}>{fleetOptions}</select>
                    <label for="twin-tenants">Tenant tree</label>
                    <select id="twin-tenants" name="tenants"{Invalid("tenants")}>{treeOptions}</select>
                  </fieldset>
                  <fieldset>
                    <legend>Trace</legend>
                    <div class="choice">
                      <input type="radio" id="twin-source-sample" name="source" value="sample"{Checked(source == "sample")}{Invalid("source")}>
                      <label for="twin-source-sample">A shipped sample</label>
                      <label for="twin-trace" class="sub">Sample trace</label>
                      <select id="twin-trace" name="trace"{Invalid("trace")}>{traceOptions}</select>
                    </div>
                    <div class="choice">
                      <input type="radio" id="twin-source-upload" name="source" value="upload"{Checked(source == "upload")}>
                      <label for="twin-source-upload">A file of mine</label>
                      <label for="twin-file" class="sub">Trace file</label>
                      <input type="file" id="twin-file" name="{TwinValidator.UploadField}" accept=".csv,.gz,text/csv,application/gzip" aria-describedby="twin-file-help"{Invalid(TwinValidator.UploadField)}>
                      <p class="muted" id="twin-file-help">Philly, Kalos or native CSV (<code>docs/trace-format.md</code>), plain or gzip; at most {TwinValidator.Megabytes(limits.MaxUploadBytes)} and {DashboardFormat.Count(limits.MaxJobs)} jobs.</p>
                    </div>
                    <div class="choice">
                      <input type="radio" id="twin-source-generate" name="source" value="generate"{Checked(source == "generate")}>
                      <label for="twin-source-generate">A generated workload</label>
                      <span class="muted">(as <code>gpufleet workload generate</code> makes it for the fleet and tree)</span>
                      <div class="numbers">
                        <span class="pair"><label for="twin-days">Days</label> <input type="number" id="twin-days" name="days" min="0.01" max="{limits.MaxGeneratedDays}" step="any" inputmode="decimal" value="{Number(sent?.Days)}" placeholder="7"{Invalid("days")}></span>
                        <span class="pair"><label for="twin-load">Load</label> <input type="number" id="twin-load" name="load" min="0.01" max="{limits.MaxGeneratedLoad}" step="any" inputmode="decimal" value="{Number(sent?.Load)}" placeholder="0.9"{Invalid("load")}></span>
                        <span class="pair"><label for="twin-seed">Seed</label> <input type="number" id="twin-seed" name="seed" step="1" value="{sent?.Seed?.ToString(CultureInfo.InvariantCulture) ?? ""}" placeholder="1"{Invalid("seed")}></span>
                      </div>
                    </div>
                  </fieldset>
                  <fieldset>
                    <legend>Policies to compare</legend>
                    <div class="checks">{policyBoxes}</div>
                  </fieldset>
                  <button type="submit">Start the run</button>
                </form>
                """)
            : Html.Of($"<p class=\"notice\">A viewer token may look at its tenant's runs but not start one.</p>");
        return Html.Of($"""
            <p>Replay a trace on a fleet under several policies, as <code>gpufleet simulate</code> does, and compare them side by side:
              utilization, waiting time, each tenant's share and power against the cap. Runs take their turn on one worker beside the
              live scheduler: at most {limits.MaxActiveRuns} queued or running on this server, {limits.MaxActiveRunsPerToken} per token; finished runs are kept
              for {Hours(limits.KeepFinishedFor)} (at most {limits.MaxFinishedRuns}).</p>
            {summary}
            {form}
            <h2 id="twin-runs">Runs</h2>
            {Runs(runs, queue)}
            """);
    }

    /// <summary>The runs as a table (the caller's, their tenant's; an admin's: all).</summary>
    private static Html Runs(IReadOnlyList<TwinRun> runs, TwinRunQueue queue)
    {
        if (runs.Count == 0) return Html.Of($"<p class=\"muted\">No runs yet.</p>");
        var rows = Html.Join(runs.Select(r =>
        {
            var status = r.Status;
            var state = status.State.ToString().ToLowerInvariant();
            return Html.Of($"""
                <tr id="twin-run-{r.Id}"><td data-label="Run"><a href="/twin/runs/{r.Id}">{r.Id}</a></td><td data-label="Started by">{Owner(r)}</td>
                  <td data-label="State"><span class="state state-{state}">{state}</span></td><td data-label="Progress">{Progress(status, queue.Position(r))}</td>
                  <td data-label="Fleet">{r.Request.FleetName}{(r.Request.TenantsName is { } t ? Html.Of($"<br><span class=\"muted\">{t}</span>") : Html.Empty)}</td>
                  <td data-label="Trace">{r.Request.Trace.Describe()}</td><td data-label="Policies">{string.Join(", ", r.Request.Policies.Select(p => p.Name))}</td>
                  <td data-label="Queued">{DashboardFormat.Time(r.SubmittedAt)}</td></tr>
                """);
        }));
        return Html.Of($"""
            <div class="scroll" role="region" aria-labelledby="twin-runs" tabindex="0">
            <table class="cards">
              <thead><tr><th scope="col">Run</th><th scope="col">Started by</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Fleet</th>
                <th scope="col">Trace</th><th scope="col">Policies</th><th scope="col">Queued</th></tr></thead>
              <tbody>{rows}</tbody>
            </table>
            </div>
            """);
    }

    /// <summary>Who started a run, in words: "admin", "tenant a".</summary>
    public static string Owner(TwinRun run) => run.Owner.Tenant is { } tenant ? $"tenant {tenant}" : "admin";

    /// <summary>How far a run is, in words: "42%: simulating backfill (1 of 2)", "2nd in the queue".</summary>
    public static string Progress(TwinRunStatus status, int? position) => status.State switch
    {
        TwinRunState.Queued => position is { } p ? $"waiting: {Ordinal(p)} in the queue" : "waiting",
        TwinRunState.Running => $"{status.Progress.ToString("0%", CultureInfo.InvariantCulture)}: {status.Stage}",
        TwinRunState.Succeeded => "done",
        TwinRunState.Failed => "failed",
        _ => status.Stage,
    };

    private static string Ordinal(int n) => n switch
    {
        1 => "next",
        _ when n % 10 == 2 && n % 100 != 12 => $"{n}nd",
        _ when n % 10 == 3 && n % 100 != 13 => $"{n}rd",
        _ when n % 10 == 1 && n % 100 != 11 => $"{n}st",
        _ => $"{n}th",
    };

    // The id of the control a refused field points at.
    private static string AnchorOf(string field) => field switch
    {
        "fleet" => "twin-fleet",
        "tenants" => "twin-tenants",
        "policies" => "twin-policy-first",
        "source" => "twin-source-sample",
        "trace" => "twin-trace",
        TwinValidator.UploadField => "twin-file",
        "days" => "twin-days",
        "load" => "twin-load",
        "seed" => "twin-seed",
        _ => "twin-fleet",
    };

    private static Html Option(string value, string label, bool selected) =>
        selected ? Html.Of($"<option value=\"{value}\" selected>{label}</option>") : Html.Of($"<option value=\"{value}\">{label}</option>");

    private static string Hours(TimeSpan span) => span.TotalHours == 1 ? "an hour" : $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} hours";

    private static Html Checked(bool on) => on ? Html.Raw(" checked") : Html.Empty;
}
