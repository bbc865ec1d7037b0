using System.Globalization;
using System.Text;
using GpuFleet.Server.Api;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The web dashboard: server-rendered pages over the data the API reads — the queue (<c>/queue</c>),
/// a job (<c>/jobs/{id}</c>), the fleet (<c>/</c>, <c>/fleet</c>), the tenants (<c>/tenants</c>) and the twin (<c>/twin</c>) —
/// with a sign-in by API token kept in an HttpOnly, SameSite=Strict cookie (<see cref="DashboardSession"/>).
/// Every state-changing form (sign-in, sign-out, cancel) carries an anti-forgery token; one without
/// it is refused (400). Access follows the API's rules: a tenant's token sees its tenant only (another
/// tenant's job is a 404), a viewer cannot cancel (403). See docs/dashboard.md.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>The form field that carries the anti-forgery token.</summary>
    public const string AntiforgeryField = "__RequestVerificationToken";

    /// <summary>Most jobs one "cancel all matching" request cancels.</summary>
    public const int MaxBulkCancel = 10_000;

    /// <summary>Registers what the dashboard needs: anti-forgery tokens, in a cookie as strict as the session's.</summary>
    public static void AddServices(IServiceCollection services) =>
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "gpufleet_antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = AntiforgeryField;
            // Only the form field counts: the dashboard's script never posts.
            o.HeaderName = null;
        });

    /// <summary>Maps the pages (left out of the OpenAPI document: they are not the API).</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("").ExcludeFromDescription();
        pages.MapGet("/dashboard/app.css", () => Asset(DashboardAssets.Css, "text/css; charset=utf-8"));
        pages.MapGet("/dashboard/app.js", () => Asset(DashboardAssets.Js, "text/javascript; charset=utf-8"));
        pages.MapGet("/signin", SignInForm);
        pages.MapPost("/signin", SignIn);
        pages.MapPost("/signout", SignOut);
        pages.MapGet("/", Fleet);
        pages.MapGet("/fleet", Fleet);
        pages.MapGet("/fleet/live", FleetLive);
        pages.MapGet("/fleet/pool", Pool);
        pages.MapGet("/tenants", Tenants);
        pages.MapGet("/tenants/live", TenantsLive);
        pages.MapGet("/tenants/grant", Grant);
        pages.MapGet("/tenants/usage.csv", (HttpContext http, IAntiforgery antiforgery, TokenStore tokens, JobStore store, ServerSettings settings, TimeProvider clock) =>
            Signed(http, antiforgery, tokens, request => UsageDownload.AnswerAsync(request, store, settings, clock)));
        pages.MapGet("/services", Services);
        pages.MapGet("/services/live", ServicesLive);
        pages.MapGet("/queue", Queue);
        pages.MapGet("/queue/rows", QueueRows);
        pages.MapPost("/queue/cancel", Cancel);
        pages.MapPost("/queue/cancel-all", CancelAll);
        pages.MapGet("/jobs/{id}", Job);
        TwinPages.Map(pages, app.ServiceProvider.GetRequiredService<ServerSettings>());
    }

    private static IResult Asset(string text, string type) =>
        Results.Text(text, type, Encoding.UTF8);

    private static IResult SignInForm(HttpContext http, IAntiforgery antiforgery) =>
        SignInAnswer(http, antiforgery, null, StatusCodes.Status200OK);

    private static IResult SignInAnswer(HttpContext http, IAntiforgery antiforgery, string? problem, int status)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var field = Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
        return DashboardLayout.Document(http, "Sign in", Html.Of($"<header class=\"top\"><span class=\"brand\">GpuFleet</span></header>"),
            SignInPage.Main(field, problem), status);
    }

    private static async Task<IResult> SignIn(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, FailedAuthentications failures)
    {
        if (await Forged(http, antiforgery) is { } forged) return forged;
        var address = ClientAddress.Of(http);
        if (failures.Barred(address) is not null)
            return DashboardLayout.Problem(http, StatusCodes.Status429TooManyRequests, "Too many failed sign-ins", "Too many failed sign-ins from this address; try again in a minute.");
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var token = form["token"].ToString().Trim();
        var caller = token is { Length: > 0 and <= DashboardSession.MaxTokenLength } ? await tokens.FindAsync(token, http.RequestAborted) : null;
        if (caller is null)
        {
            failures.Record(address);
            return SignInAnswer(http, antiforgery, "That token is not valid (unknown, revoked, or mistyped).", StatusCodes.Status401Unauthorized);
        }
        DashboardSession.SignIn(http, token);
        return Results.Redirect("/queue", permanent: false, preserveMethod: false);
    }

    private static async Task<IResult> SignOut(HttpContext http, IAntiforgery antiforgery, TokenStore tokens)
    {
        // A live session's form token is bound to it (CallerAsync makes it the request's user); ending a session
        // whose token was revoked meanwhile needs no check: it can do nothing.
        if (await DashboardSession.CallerAsync(http, tokens) is not null && await Forged(http, antiforgery) is { } forged) return forged;
        DashboardSession.SignOut(http);
        return Results.Redirect("/signin");
    }

    private static Task<IResult> Fleet(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, LiveScheduler scheduler) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            var view = await scheduler.ViewAsync(http.RequestAborted);
            return view is null ? NoView(http) : DashboardLayout.Page(request, "Fleet", "/fleet", FleetPage.Main(view.SeenBy(request.Caller)));
        });

    private static Task<IResult> FleetLive(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, LiveScheduler scheduler) =>
        SignedFragment(http, antiforgery, tokens, async request => await scheduler.ViewAsync(http.RequestAborted) is { } view ? FleetPage.Live(view.SeenBy(request.Caller)) : null);

    private static Task<IResult> Pool(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, LiveScheduler scheduler, ServerSettings settings) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            var view = await scheduler.ViewAsync(http.RequestAborted);
            if (view is null) return NoView(http);
            string siteName = http.Request.Query["site"].ToString(), modelName = http.Request.Query["model"].ToString();
            var fleet = settings.Fleet;
            int site = fleet.SiteIndex(siteName), model = fleet.ModelIndex(modelName);
            if (site < 0) return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad request", "site: the fleet has no such site");
            if (model < 0) return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad request", "model: the fleet has no such GPU model");
            var poolIds = Enumerable.Range(0, fleet.PoolCount).Where(p => fleet.PoolSite(p) == site && fleet.PoolModel(p) == model).ToList();
            if (poolIds.Count == 0) return DashboardLayout.Problem(http, StatusCodes.Status404NotFound, "No such pool", $"{siteName} has no {modelName} GPUs.");
            var siteView = view.Sites.First(s => s.Site == siteName);
            if (siteView.Pools is null) return NoView(http);   // a view published before pools were part of it
            var pools = new List<(FleetSnapshot.PoolView, IReadOnlyList<DomainUse>?)>();
            // The snapshot lists a site's pools in the fleet's order, as poolIds are.
            var sitePools = Enumerable.Range(0, fleet.PoolCount).Where(p => fleet.PoolSite(p) == site).ToList();
            foreach (var p in poolIds)
                pools.Add((siteView.Pools![sitePools.IndexOf(p)], await scheduler.PoolDomainsAsync(p, http.RequestAborted)));
            return DashboardLayout.Page(request, $"{siteName} · {modelName}", "/fleet", PoolPage.Main(siteName, modelName, pools, view.At));
        });

    private static Task<IResult> Tenants(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, LiveScheduler scheduler) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            var view = await scheduler.ViewAsync(http.RequestAborted);
            if (view is null) return NoView(http);
            var (queues, grants) = SeenBy(request.Caller, view);
            return DashboardLayout.Page(request, "Tenants", "/tenants", TenantsPage.Main(view, queues, grants));
        });

    private static Task<IResult> TenantsLive(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, LiveScheduler scheduler) =>
        SignedFragment(http, antiforgery, tokens, async request =>
        {
            if (await scheduler.ViewAsync(http.RequestAborted) is not { } view) return null;
            var (queues, grants) = SeenBy(request.Caller, view);
            return TenantsPage.Live(view, queues, grants);
        });

    private static Task<IResult> Services(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, ServiceStore store, TimeProvider clock) =>
        Signed(http, antiforgery, tokens, async request =>
            DashboardLayout.Page(request, "Services", "/services", ServicesPage.Main(await ServicesSeenByAsync(request, store), clock.GetUtcNow())));

    private static Task<IResult> ServicesLive(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, ServiceStore store, TimeProvider clock) =>
        SignedFragment(http, antiforgery, tokens, async request => ServicesPage.Live(await ServicesSeenByAsync(request, store), clock.GetUtcNow()));

    // The same selection as GET /api/v1/services: an admin sees every service, anyone else its tenant's.
    private static Task<IReadOnlyList<ServiceView>> ServicesSeenByAsync(DashboardRequest request, ServiceStore store) =>
        ServiceView.ListAsync(store, request.Caller.Role == Role.Admin ? null : request.Caller.Tenant, request.Http.RequestAborted);

    // The same selection as GET /api/v1/queues and /grants: an admin sees every node, anyone else its tenant and that tenant's owner.
    private static (IReadOnlyList<FleetSnapshot.QueueView>, IReadOnlyList<FleetSnapshot.GrantView>) SeenBy(Caller caller, FleetSnapshot view)
    {
        var owner = view.Queues.FirstOrDefault(q => q.Tenant == caller.Tenant)?.Owner;
        var queues = caller.Role == Role.Admin ? view.Queues : [.. view.Queues.Where(q => q.Tenant == caller.Tenant || q.Tenant == owner)];
        return (queues, [.. view.Grants.Where(g => caller.Sees(g.Tenant))]);
    }

    private static Task<IResult> Grant(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, LiveScheduler scheduler, JobStore store,
        ServerSettings settings, TimeProvider clock) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            var view = await scheduler.ViewAsync(http.RequestAborted);
            if (view is null) return NoView(http);
            string tenant = http.Request.Query["tenant"].ToString(), name = http.Request.Query["grant"].ToString();
            // Another tenant's grant reads as one that does not exist, as another tenant's job does.
            var grant = SeenBy(request.Caller, view).Item2.FirstOrDefault(g => g.Tenant == tenant && g.Grant == name);
            if (grant is null)
                return DashboardLayout.Problem(http, StatusCodes.Status404NotFound, "No such grant", "No grant of that name for that project is visible to you.");
            var burn = await GrantBurnDown.ReadAsync(store, settings, grant, clock.GetUtcNow(), http.RequestAborted);
            return DashboardLayout.Page(request, $"Grant {grant.Grant} of {grant.Tenant}", "/tenants", GrantBurnDown.Main(grant, burn));
        });

    private static Task<IResult> Queue(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, JobStore store, LiveScheduler scheduler,
        ServerSettings settings, TimeProvider clock) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            var (filter, problem) = QueueFilter.Parse(http.Request.Query, request.Caller, settings);
            if (filter is null) return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad filter", problem!);
            var rows = await RowsAsync(request, filter, store, scheduler, settings, clock);
            return DashboardLayout.Page(request, "Queue", "/queue", QueuePage.Main(request, filter, rows, settings, Notice(http.Request.Query)));
        });

    private static async Task<IResult> QueueRows(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, JobStore store, LiveScheduler scheduler,
        ServerSettings settings, TimeProvider clock)
    {
        if (await DashboardSession.CallerAsync(http, tokens) is not { } caller)
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "signed out", detail: "sign in again at /signin");
        var request = new DashboardRequest(http, caller, antiforgery);
        var (filter, problem) = QueueFilter.Parse(http.Request.Query, caller, settings);
        if (filter is null) return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "bad filter", detail: problem);
        return DashboardLayout.Fragment(http, await RowsAsync(request, filter, store, scheduler, settings, clock));
    }

    private static async Task<Html> RowsAsync(DashboardRequest request, QueueFilter filter, JobStore store, LiveScheduler scheduler, ServerSettings settings,
        TimeProvider clock)
    {
        var cancel = request.Http.RequestAborted;
        var defaultClass = settings.Tenants.DefaultClass;
        var (jobs, next) = await QueueQuery.PageAsync(store, filter, defaultClass, cancel);
        var rows = await QueueQuery.RowsAsync(jobs, store, scheduler, settings, cancel);
        return QueuePage.Rows(request, filter, rows, next, clock.GetUtcNow(), defaultClass);
    }

    private static Task<IResult> Cancel(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, JobStore store, ServerSettings settings, TimeProvider clock) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            if (await Forged(http, antiforgery) is { } forged) return forged;
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            if (!long.TryParse(form["id"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad request", "id: must be a job id (a whole number, 0 or more)");
            var outcome = await DashboardCancel.CancelAsync(store, request.Caller, id, clock.GetUtcNow(), $"{http.Request.Path}?id={id}");
            if (outcome.Status != StatusCodes.Status200OK)
                return DashboardLayout.Problem(http, outcome.Status, "Not cancelled", $"Job {id} was not cancelled: {outcome.Message}.");
            if (form["back"].ToString() == "job") return Results.Redirect($"/jobs/{id}?cancelled={id}");
            // Back to the same filtered page: the filter is read and written again, never echoed as given.
            var (filter, _) = QueueFilter.Parse(http.Request.Query, request.Caller, settings);
            var query = filter?.Query(filter.After) ?? "";
            return Results.Redirect($"/queue{query}{(query.Length == 0 ? "?" : "&")}cancelled={id}");
        });

    private static Task<IResult> CancelAll(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, JobStore store, ServerSettings settings, TimeProvider clock) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            if (await Forged(http, antiforgery) is { } forged) return forged;
            if (request.Caller.Role != Role.Admin)
                return DashboardLayout.Problem(http, StatusCodes.Status403Forbidden, "Not allowed", "Only an admin may cancel every matching job at once.");
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var (filter, problem) = QueueFilter.Parse(new QueryCollection(form.ToDictionary(f => f.Key, f => f.Value)), request.Caller, settings);
            if (filter is null) return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad filter", problem!);
            var cancelled = 0;
            var after = 0L;
            while (cancelled < MaxBulkCancel)
            {
                var (jobs, next) = await QueueQuery.PageAsync(store, filter with { After = after }, settings.Tenants.DefaultClass, CancellationToken.None);
                foreach (var job in jobs.Take(MaxBulkCancel - cancelled))
                    if ((await DashboardCancel.CancelAsync(store, request.Caller, job.Id, clock.GetUtcNow(), $"{http.Request.Path}?id={job.Id}")).Status == StatusCodes.Status200OK)
                        cancelled++;
                if (next is not { } n) break;
                after = n;
            }
            var query = filter.Query(null);
            return Results.Redirect($"/queue{query}{(query.Length == 0 ? "?" : "&")}cancelledAll={cancelled}");
        });

    private static Task<IResult> Job(string id, HttpContext http, IAntiforgery antiforgery, TokenStore tokens, JobStore store, LiveScheduler scheduler,
        ServerSettings settings, TimeProvider clock, LeaderQuery leader, IOptions<JsonOptions> json) =>
        Signed(http, antiforgery, tokens, async request =>
        {
            if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId))
                return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad job id", "The job id must be a whole number, 0 or more.");
            var job = await store.GetAsync(jobId, http.RequestAborted);
            // Another tenant's job is answered as if it did not exist, as the API does.
            if (job is null || !request.Caller.Sees(job.Tenant))
                return DashboardLayout.Problem(http, StatusCodes.Status404NotFound, "Job not found", $"No job {jobId}.");
            var history = await store.HistoryAsync(jobId, http.RequestAborted);
            var gpuSeconds = job.GpuEquivalents * ChargedTime.Seconds(history, clock.GetUtcNow());
            string? reason = null;
            DateTimeOffset? estimate = null;
            if (job.State == JobState.Pending && scheduler.IsLeader)
            {
                var why = await scheduler.ExplainAsync(jobId, http.RequestAborted);
                reason = why is null ? ReasonText.NotYetSeen : ReasonText.Of(why.Message, settings);
                estimate = why?.EstimatedStart is { } s ? settings.FromClock(s) : null;
            }
            else if (job.State == JobState.Pending)
            {
                // Only the leader knows: ask it as the API does (LeaderQuery repeats the request with the caller's
                // bearer token, here the session's, so the leader applies the same access rules).
                http.Request.Headers.Authorization = $"Bearer {DashboardSession.Token(http)}";
                if (await leader.AskAsync(http, jobId, json.Value.SerializerOptions) is { } led)
                {
                    reason = led.PendingMessage is { } message ? ReasonText.Of(message, settings) : null;
                    estimate = led.EstimatedStart;
                }
            }
            var (log, cut) = await LogTailAsync(settings, jobId, http.RequestAborted);
            var nodes = PlacementText.Parse(job.Placement, settings.Fleet);
            var waiting = job.State == JobState.Running ? await scheduler.WaitingInClusterAsync(jobId, nodes, http.RequestAborted) : null;
            var main = JobPage.Main(request, job, history, nodes, gpuSeconds,
                JobEnergy.Kwh(history, job.GpuEquivalents, settings.Fleet, clock.GetUtcNow()), reason, estimate, log, cut,
                Notice(http.Request.Query), settings.Tenants.DefaultClass, waiting);
            return DashboardLayout.Page(request, $"Job {jobId}", "", main);
        });

    // The end of the job's log as the executor wrote it (the file GET /api/v1/jobs/{id}/log reads); null when there is none.
    private static async Task<(string? Text, bool Cut)> LogTailAsync(ServerSettings settings, long id, CancellationToken cancel)
    {
        if (settings.JobLogDirectory is not { } directory) return (null, false);
        try
        {
            await using var log = new FileStream(Path.Combine(directory, Executors.Local.LocalExecutor.LogFileName(settings.Installation, id)),
                FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, useAsync: true);
            var length = log.Length;
            var from = Math.Max(0, length - JobPage.LogTailBytes);
            log.Seek(from, SeekOrigin.Begin);
            var buffer = new byte[length - from];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await log.ReadAsync(buffer.AsMemory(read), cancel);
                if (n == 0) break;
                read += n;
            }
            return (Encoding.UTF8.GetString(buffer, 0, read), from > 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, false);
        }
    }

    // A page for a signed-in caller; anyone else goes to the sign-in form (a session whose token was revoked too).
    internal static async Task<IResult> Signed(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, Func<DashboardRequest, Task<IResult>> page)
    {
        if (await DashboardSession.CallerAsync(http, tokens) is not { } caller)
        {
            if (HttpMethods.IsPost(http.Request.Method))
                return DashboardLayout.Problem(http, StatusCodes.Status401Unauthorized, "Signed out", "Sign in first: this needs a signed-in session.");
            return Results.Redirect("/signin");
        }
        return await page(new DashboardRequest(http, caller, antiforgery));
    }

    // A live region's fragment for a signed-in caller: 401 (the script goes to the sign-in form) otherwise, 503 without a view.
    private static async Task<IResult> SignedFragment(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, Func<DashboardRequest, Task<Html?>> fragment)
    {
        if (await DashboardSession.CallerAsync(http, tokens) is not { } caller)
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "signed out", detail: "sign in again at /signin");
        return await fragment(new DashboardRequest(http, caller, antiforgery)) is { } html
            ? DashboardLayout.Fragment(http, html)
            : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "no scheduler view yet", detail: "no replica has led the scheduler yet");
    }

    // The answer to a form without a valid anti-forgery token (forged on another site, or stale); null when it has one.
    internal static async Task<IResult?> Forged(HttpContext http, IAntiforgery antiforgery)
    {
        try
        {
            return await antiforgery.IsRequestValidAsync(http)
                ? null
                : DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Form expired",
                    "This form's anti-forgery token is missing or not valid (the page is old, or the form came from another site). Reload the page and try again.");
        }
        catch (Exception e) when (UnreadableForm(e))
        {
            // The check reads the form: a body that is not one (cut short, too many fields) is the sender's mistake.
            return DashboardLayout.Problem(http, StatusCodes.Status400BadRequest, "Bad form", "The request's body is not a readable form.");
        }
    }

    /// <summary>Whether reading a request's form failed for the request's own fault: malformed, cut short, or past the form limits.</summary>
    /// A body over the size limit is not one: it stays a 413, which the body-limit middleware answers.
    internal static bool UnreadableForm(Exception e) => e is InvalidDataException or IOException or BadHttpRequestException
        or Microsoft.AspNetCore.Antiforgery.AntiforgeryValidationException && !TooLarge(e);

    private static bool TooLarge(Exception? e) => e is not null && (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } || TooLarge(e.InnerException));

    private static IResult NoView(HttpContext http) =>
        DashboardLayout.Problem(http, StatusCodes.Status503ServiceUnavailable, "No scheduler view yet", "No replica has led the scheduler yet; try again in a few seconds.");

    // The message a redirect after a change asks for: numbers only, the words are this file's.
    private static string? Notice(IQueryCollection query)
    {
        if (long.TryParse(query["cancelled"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return $"Job {id} cancelled.";
        if (long.TryParse(query["cancelledAll"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return $"{n} jobs cancelled.";
        return null;
    }
}
