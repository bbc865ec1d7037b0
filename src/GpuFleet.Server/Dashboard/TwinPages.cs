using GpuFleet.Server.Api;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using GpuFleet.Server.Twin;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The Twin pages of the dashboard: <c>/twin</c> (the form and the runs), <c>POST /twin/runs</c> (start: a
/// multipart form with the anti-forgery token, then to the run's page), <c>/twin/runs/{id}</c> (the run),
/// <c>/twin/runs/{id}/status</c> (the part the script refreshes), <c>/twin/runs/{id}/report.json</c>,
/// <c>/twin/runs/{id}/charts/{file}</c> and <c>POST /twin/runs/{id}/cancel</c>. The same queue, checks and
/// access rules as <c>/api/v1/twin</c> (<see cref="TwinEndpoints"/>): another tenant's run is a 404 page,
/// a viewer may look but not start or cancel (403), a full queue is a 429 page. Starts and cancels are
/// written to the audit log as the API's are.
/// </summary>
internal static class TwinPages
{
    /// <summary>Maps the pages onto the dashboard's group.</summary>
    public static void Map(RouteGroupBuilder pages, ServerSettings settings)
    {
        pages.MapGet("/twin", Page);
        pages.MapPost("/twin/runs", Start).WithMetadata(new RequestSizeLimit(TwinEndpoints.BodyLimit(settings)));
        pages.MapGet("/twin/runs/{id}", Run);
        pages.MapGet("/twin/runs/{id}/status", Status);
        pages.MapGet("/twin/runs/{id}/report.json", (string id, HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinRunQueue queue) =>
            DashboardEndpoints.Signed(http, antiforgery, tokens, request => Task.FromResult(Finished(request, id, queue, result =>
            {
                http.Response.Headers.ContentDisposition = $"attachment; filename=\"twin-{id}.json\"";
                http.Response.Headers.XContentTypeOptions = "nosniff";
                http.Response.Headers.CacheControl = "no-store";
                return Results.Text(result.ReportJson, "application/json", System.Text.Encoding.UTF8);
            }))));
        pages.MapGet("/twin/runs/{id}/charts/{file}", (string id, string file, HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinRunQueue queue) =>
            DashboardEndpoints.Signed(http, antiforgery, tokens, request => Task.FromResult(Finished(request, id, queue, result =>
                TwinEndpoints.Chart(http, result, file) ?? NotFound(http, id)))));
        pages.MapPost("/twin/runs/{id}/cancel", Cancel);
    }

    private static Task<IResult> Page(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinCatalog catalog, ServerSettings settings, TwinRunQueue queue) =>
        DashboardEndpoints.Signed(http, antiforgery, tokens, request => Task.FromResult(
            DashboardLayout.Page(request, "Twin", "/twin", TwinPage.Main(request, catalog, settings.Twin, queue.List(request.Caller), queue))));

    private static Task<IResult> Start(HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinCatalog catalog, ServerSettings settings,
        TwinValidator validator, TwinRunQueue queue, TimeProvider clock) =>
        DashboardEndpoints.Signed(http, antiforgery, tokens, async request =>
        {
            if (await DashboardEndpoints.Forged(http, antiforgery) is { } forged) return forged;
            if (!request.Caller.CanWrite)
                return DashboardLayout.Problem(http, StatusCodes.Status403Forbidden, "Not allowed", "A viewer token cannot start twin runs.", "/twin", "Back to the Twin page");
            if (queue.Refusal(request.Caller) is { } refusal)
            {
                http.Response.Headers.RetryAfter = TwinEndpoints.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return DashboardLayout.Page(request, "Twin", "/twin", TwinPage.Main(request, catalog, settings.Twin, queue.List(request.Caller), queue, null, null, refusal),
                    StatusCodes.Status429TooManyRequests);
            }
            // The anti-forgery check above has read the form already.
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var (sent, upload, unread) = TwinForm.Read(form, DashboardEndpoints.AntiforgeryField);
            IResult Again(IReadOnlyDictionary<string, string[]> problems, string? refusal, int status) =>
                DashboardLayout.Page(request, "Twin", "/twin", TwinPage.Main(request, catalog, settings.Twin, queue.List(request.Caller), queue, sent, problems, refusal), status);
            if (unread.Count > 0) return Again(unread, null, StatusCodes.Status400BadRequest);
            var checkedRequest = await validator.ValidateAsync(sent, upload, http.RequestAborted);
            if (checkedRequest.Request is not { } good) return Again(checkedRequest.Errors, null, StatusCodes.Status400BadRequest);
            var admission = queue.Submit(request.Caller, good);
            if (admission.Run is not { } run)
            {
                TwinValidator.Discard(good.Trace);
                http.Response.Headers.RetryAfter = TwinEndpoints.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Again(new Dictionary<string, string[]>(), admission.Refusal, StatusCodes.Status429TooManyRequests);
            }
            await AuditAsync(tokens, request.Caller, clock, $"/twin/runs?id={run.Id}", StatusCodes.Status202Accepted);
            return Results.Redirect($"/twin/runs/{run.Id}");
        });

    private static Task<IResult> Run(string id, HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinRunQueue queue) =>
        DashboardEndpoints.Signed(http, antiforgery, tokens, request => Task.FromResult(queue.Find(id, request.Caller) is { } run
            ? DashboardLayout.Page(request, $"Twin run {run.Id}", "/twin", TwinRunPage.Main(request, run, queue,
                http.Request.Query.ContainsKey("cancelled") ? $"Run {run.Id} cancelled." : null))
            : NotFound(http, id)));

    private static async Task<IResult> Status(string id, HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinRunQueue queue)
    {
        // As the queue's rows: a script asks, so a signed-out session is a 401 it can act on rather than a redirect.
        if (await DashboardSession.CallerAsync(http, tokens) is not { } caller)
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "signed out", detail: "sign in again at /signin");
        if (queue.Find(id, caller) is not { } run)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "not found", detail: "no such twin run");
        return DashboardLayout.Fragment(http, TwinRunPage.Status(new DashboardRequest(http, caller, antiforgery), run, queue));
    }

    private static Task<IResult> Cancel(string id, HttpContext http, IAntiforgery antiforgery, TokenStore tokens, TwinRunQueue queue, TimeProvider clock) =>
        DashboardEndpoints.Signed(http, antiforgery, tokens, async request =>
        {
            if (await DashboardEndpoints.Forged(http, antiforgery) is { } forged) return forged;
            if (queue.Find(id, request.Caller) is not { } run) return NotFound(http, id);
            if (!request.Caller.CanWrite)
                return DashboardLayout.Problem(http, StatusCodes.Status403Forbidden, "Not allowed", "A viewer token cannot cancel twin runs.", "/twin", "Back to the Twin page");
            if (!queue.Cancel(run))
                return DashboardLayout.Problem(http, StatusCodes.Status409Conflict, "Not cancelled",
                    $"Run {run.Id} is {run.Status.State.ToString().ToLowerInvariant()}: only a queued or running run can be cancelled.", $"/twin/runs/{run.Id}", "Back to the run");
            await AuditAsync(tokens, request.Caller, clock, $"/twin/runs/cancel?id={run.Id}", StatusCodes.Status200OK);
            return Results.Redirect($"/twin/runs/{run.Id}?cancelled=1");
        });

    // A finished run's download; the run's own page in words when there is none (yet).
    private static IResult Finished(DashboardRequest request, string id, TwinRunQueue queue, Func<TwinResult, IResult> answer)
    {
        var http = request.Http;
        if (queue.Find(id, request.Caller) is not { } run) return NotFound(http, id);
        if (run.Status.State != TwinRunState.Succeeded || run.Result is not { } result)
            return DashboardLayout.Problem(http, StatusCodes.Status409Conflict, "Not ready",
                $"Run {run.Id} is {run.Status.State.ToString().ToLowerInvariant()}: its report and charts come when it has succeeded.", $"/twin/runs/{run.Id}", "Back to the run");
        return answer(result);
    }

    // Another tenant's run is answered as if it did not exist, as the API does (ids reveal nothing).
    private static IResult NotFound(HttpContext http, string id) =>
        DashboardLayout.Problem(http, StatusCodes.Status404NotFound, "Run not found",
            id.Length <= 40 && id.All(char.IsAsciiLetterOrDigit) ? $"No twin run {id}." : "No such twin run.", "/twin", "Back to the Twin page");

    private static Task AuditAsync(TokenStore tokens, Caller caller, TimeProvider clock, string path, int status) =>
        tokens.AuditAsync(new AuditEntry(clock.GetUtcNow(), caller.TokenId, caller.Role.ToString(), caller.Tenant, HttpMethods.Post, path, status));
}
