using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The queue page: filters, then the pending and running jobs by id with state, time in state, why
/// each pending job waits and when it should start, and a cancel button where the caller may cancel.
/// The rows live in a region the page's script refreshes from <c>/queue/rows</c> every few seconds.
/// </summary>
internal static class QueuePage
{
    /// <summary>The whole page's main part.</summary>
    public static Html Main(DashboardRequest request, QueueFilter filter, Html rows, Hosting.ServerSettings settings, string? notice)
    {
        var admin = request.Caller.Role == Role.Admin;
        var tenants = admin
            ? Select("tenant", "Tenant", filter.Tenant, settings.Tenants.Tenants.Select(t => t.Name), "all")
            : Html.Of($"<label>Tenant<input name=\"tenant\" value=\"{filter.Tenant}\" readonly></label>");
        var bulk = admin && request.Caller.CanWrite
            ? Html.Of($"""
                <form method="post" action="/queue/cancel-all" data-confirm="Cancel every job that matches these filters?">
                  {request.AntiforgeryField}{Hidden(filter)}
                  <button type="submit" class="danger">Cancel all matching jobs</button>
                </form>
                """)
            : Html.Empty;
        var noticeHtml = notice is null ? Html.Empty : Html.Of($"<p class=\"notice\" role=\"status\">{notice}</p>");
        return Html.Of($"""
            {noticeHtml}
            <form class="filters" method="get" action="/queue">
              {tenants}
              {Select("state", "State", filter.State, QueueFilter.States, null)}
              {Select("site", "Site", filter.Site, settings.Fleet.Sites.Select(s => s.Name), "any")}
              {Select("model", "Model", filter.Model, settings.Fleet.Models.Select(m => m.Name), "any")}
              {Select("class", "Priority class", filter.Class, settings.Tenants.Classes.Select(c => c.Name), "any")}
              <button type="submit">Show</button>
              <a href="/queue">Clear</a>
            </form>
            {DashboardLayout.LiveRegion("queue-rows", $"/queue/rows{filter.Query(filter.After)}", rows)}
            {bulk}
            """);
    }

    /// <summary>The refreshed part: the table and the pager.</summary>
    public static Html Rows(DashboardRequest request, QueueFilter filter, IReadOnlyList<QueueRow> rows, long? next, DateTimeOffset now, string defaultClass)
    {
        var canCancel = request.Caller.CanWrite;
        var body = rows.Count == 0
            ? Html.Of($"<tr><td colspan=\"{(canCancel ? 9 : 8)}\">No pending or running jobs match.</td></tr>")
            : Html.Join(rows.Select(r => Row(request, filter, r, now, canCancel, defaultClass)));
        var cancelHead = canCancel ? Html.Raw("<th scope=\"col\"><span class=\"muted\">Action</span></th>") : Html.Empty;
        var pager = Html.Join([
            filter.After > 0 ? Html.Of($"<a href=\"/queue{filter.Query(null)}\">First page</a>") : Html.Empty,
            next is { } n ? Html.Of($"<a href=\"/queue{filter.Query(n)}\" rel=\"next\">Next page (after job {n})</a>") : Html.Of($"<span class=\"muted\">End of the list.</span>"),
        ]);
        return Html.Of($"""
            <div class="scroll" role="region" aria-label="Jobs" tabindex="0">
            <table class="cards">
              <caption>{rows.Count} jobs{(filter.After > 0 ? $" after job {filter.After}" : "")}, by id</caption>
              <thead><tr><th scope="col">Job</th><th scope="col">Tenant</th><th scope="col">State</th><th scope="col">In state</th>
                <th scope="col" class="num">GPUs</th><th scope="col">Model / site</th><th scope="col">Class</th><th scope="col">Why it waits / where it runs</th>{cancelHead}</tr></thead>
              <tbody>{body}</tbody>
            </table>
            </div>
            <nav class="pager" aria-label="Queue pages">{pager}</nav>
            """);
    }

    private static Html Row(DashboardRequest request, QueueFilter filter, QueueRow row, DateTimeOffset now, bool canCancel, string defaultClass)
    {
        var job = row.Job;
        var state = job.State.ToString().ToLowerInvariant();
        var (site, model) = JobPlacement.SiteAndModel(job.Placement);
        var where = job.State == JobState.Running
            ? Html.Of($"{model}<br><span class=\"muted\">{site}</span>")
            : Html.Of($"{(job.Spec.Models.Count == 0 ? "any" : string.Join(", ", job.Spec.Models))}<br><span class=\"muted\">{job.Spec.Site ?? "any site"}</span>");
        var why = job.State == JobState.Pending
            ? Html.Of($"{row.Reason ?? ReasonText.NotKnownHere}{(row.EstimatedStart is { } s ? Html.Of($"<br><span class=\"muted\">estimated start {DashboardFormat.Time(s)}</span>") : Html.Empty)}")
            : Html.Of($"<code>{JobPlacement.HostList(job.Placement) ?? job.Placement}</code>");
        var cancel = canCancel
            ? Html.Of($"""<td data-label=""><form method="post" action="/queue/cancel{filter.Query(filter.After)}">{request.AntiforgeryField}<input type="hidden" name="id" value="{job.Id}"><button type="submit" class="danger" aria-label="Cancel job {job.Id}">Cancel</button></form></td>""")
            : Html.Empty;
        return Html.Of($"""
            <tr id="job-{job.Id}" data-state="{state}"><td data-label="Job"><a href="/jobs/{job.Id}">{job.Id}</a><br><span class="muted">{job.Spec.Name}</span></td><td data-label="Tenant">{job.Tenant}</td>
              <td data-label="State"><span class="state state-{state}">{state}</span></td><td data-label="In state">{(row.InStateSince is { } since ? DashboardFormat.Duration(now - since) : "")}</td>
              <td class="num" data-label="GPUs">{job.Spec.Gpus}</td><td data-label="Model / site">{where}</td><td data-label="Class">{job.Spec.PriorityClass ?? defaultClass}</td><td data-label="{(job.State == JobState.Pending ? "Why it waits" : "Nodes")}">{why}</td>{cancel}</tr>
            """);
    }

    /// <summary>A drop-down of <paramref name="options"/>; <paramref name="none"/> labels the empty choice (none: no empty choice).</summary>
    private static Html Select(string name, string label, string? selected, IEnumerable<string> options, string? none)
    {
        var items = new List<Html>();
        if (none is not null) items.Add(selected is null ? Html.Of($"<option value=\"\" selected>{none}</option>") : Html.Of($"<option value=\"\">{none}</option>"));
        foreach (var o in options)
            items.Add(o == selected ? Html.Of($"<option selected>{o}</option>") : Html.Of($"<option>{o}</option>"));
        return Html.Of($"<label>{label}<select name=\"{name}\">{Html.Join(items)}</select></label>");
    }

    private static Html Hidden(QueueFilter filter)
    {
        var fields = new List<Html>();
        void Add(string name, string? value)
        {
            if (value is not null) fields.Add(Html.Of($"<input type=\"hidden\" name=\"{name}\" value=\"{value}\">"));
        }
        Add("tenant", filter.Tenant);
        Add("state", filter.State);
        Add("site", filter.Site);
        Add("model", filter.Model);
        Add("class", filter.Class);
        return Html.Join(fields);
    }
}
