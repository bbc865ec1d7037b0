using System.Globalization;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// What the queue page shows: jobs of one tenant (a tenant's token: always its own), in one state or
/// both active ones, at one site, of one model, of one priority class, after a job id (keyset paging).
/// Every value is checked against the fleet and the tenant tree, so a bad one is a 400 that names it.
/// </summary>
internal sealed record QueueFilter(string? Tenant, string State, string? Site, string? Model, string? Class, long After)
{
    /// <summary>The states the page offers: both active ones, or one.</summary>
    public static readonly string[] States = ["active", "pending", "running"];

    /// <summary>The job states this filter covers.</summary>
    public IReadOnlyList<JobState> JobStates => State switch
    {
        "pending" => [JobState.Pending],
        "running" => [JobState.Running],
        _ => [JobState.Pending, JobState.Running],
    };

    /// <summary>The filter of a query string, or the problem with it (field and words).</summary>
    public static (QueueFilter? Filter, string? Problem) Parse(IQueryCollection query, Caller caller, ServerSettings settings)
    {
        string? One(string name) => query[name].Count > 0 && query[name].ToString() is { Length: > 0 } v ? v.Trim() : null;
        var tenant = One("tenant");
        if (caller.Role != Role.Admin)
        {
            if (tenant is not null && tenant != caller.Tenant) return (null, $"tenant: a token of tenant '{caller.Tenant}' sees '{caller.Tenant}' only");
            tenant = caller.Tenant;
        }
        else if (tenant is not null && !settings.Tenants.Tenants.Any(t => t.Name == tenant))
        {
            return (null, $"tenant: no tenant '{Shorten(tenant)}'");
        }
        var state = One("state") ?? "active";
        if (!States.Contains(state)) return (null, $"state: must be one of {string.Join(", ", States)}");
        var site = One("site");
        if (site is not null && !settings.Fleet.Sites.Any(s => s.Name == site)) return (null, $"site: no site '{Shorten(site)}'");
        var model = One("model");
        if (model is not null && !settings.Fleet.Models.Any(m => m.Name == model)) return (null, $"model: no GPU model '{Shorten(model)}'");
        var cls = One("class");
        if (cls is not null && !settings.Tenants.Classes.Any(c => c.Name == cls)) return (null, $"class: no priority class '{Shorten(cls)}'");
        var after = 0L;
        if (One("after") is { } a && !long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out after))
            return (null, "after: must be a job id (a whole number, 0 or more)");
        return (new QueueFilter(tenant, state, site, model, cls, after), null);
    }

    /// <summary>The query string of this filter (without <c>after</c> when <paramref name="after"/> is null), starting with <c>?</c>.</summary>
    public string Query(long? after)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null) parts.Add($"{name}={Uri.EscapeDataString(value)}");
        }
        Add("tenant", Tenant);
        Add("state", State == "active" ? null : State);
        Add("site", Site);
        Add("model", Model);
        Add("class", Class);
        Add("after", after is > 0 ? after.Value.ToString(CultureInfo.InvariantCulture) : null);
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    /// <summary>Whether <paramref name="job"/> passes the site, model and class filters (tenant and state are the store's).</summary>
    public bool Matches(StoredJob job, string defaultClass)
    {
        var (placedSite, placedModel) = JobPlacement.SiteAndModel(job.Placement);
        var running = job.State == JobState.Running && placedSite is not null;
        if (Site is not null && (running ? placedSite : job.Spec.Site) != Site) return false;
        if (Model is not null && (running ? placedModel != Model : job.Spec.Models.Count > 0 && !job.Spec.Models.Contains(Model))) return false;
        return Class is null || (job.Spec.PriorityClass ?? defaultClass) == Class;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
