using GpuFleet.Core.Scheduling;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using GpuFleet.Server.Twin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GpuFleet.Server.Api;

/// <summary>
/// Twin runs for scripts, under <c>/api/v1/twin</c>: <c>GET inputs</c> (the fleets, tenant trees, sample
/// traces and policies to choose from, and the limits), <c>POST runs</c> (JSON, or <c>multipart/form-data</c>
/// with a trace file in <c>traceFile</c>; 202 with the run), <c>GET runs</c>, <c>GET runs/{id}</c>,
/// <c>GET runs/{id}/report</c> (the JSON <c>simulate --json</c> writes), <c>GET runs/{id}/charts/{file}</c>
/// (SVG) and <c>DELETE runs/{id}</c> (cancel). The Twin page does the same for a signed-in browser.
/// Another tenant's run answers 404; a viewer may look, not start or cancel (403); past the queue's
/// limits, 429 with <c>Retry-After</c>.
/// </summary>
public static class TwinEndpoints
{
    /// <summary>What a client refused for the queue's limits is told to wait, in seconds.</summary>
    public const int RetryAfterSeconds = 30;

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var settings = app.ServiceProvider.GetRequiredService<ServerSettings>();
        var twin = app.MapGroup("/api/v1/twin");
        twin.MapGet("inputs", Inputs);
        // The body is read by Start itself (JSON or a form with a file); declared for the OpenAPI document.
        twin.MapPost("runs", Start).Accepts<TwinRunRequest>("application/json", "multipart/form-data")
            .WithMetadata(new RequestSizeLimit(BodyLimit(settings)));
        twin.MapGet("runs", (HttpContext context, TwinRunQueue queue) =>
            Results.Ok(queue.List(CallerAccess.Of(context)!).Select(r => TwinRunView.Of(r, queue))));
        twin.MapGet("runs/{id}", (string id, HttpContext context, TwinRunQueue queue) =>
            queue.Find(id, CallerAccess.Of(context)!) is { } run ? Results.Ok(TwinRunView.Of(run, queue)) : NotFound(id));
        twin.MapGet("runs/{id}/report", (string id, HttpContext context, TwinRunQueue queue) =>
            Finished(id, context, queue, result => Results.Text(result.ReportJson, "application/json", System.Text.Encoding.UTF8)));
        twin.MapGet("runs/{id}/charts/{file}", (string id, string file, HttpContext context, TwinRunQueue queue) =>
            Finished(id, context, queue, result => Chart(context, result, file) ?? NotFound(id, file)));
        twin.MapDelete("runs/{id}", (string id, HttpContext context, TwinRunQueue queue) =>
        {
            var caller = CallerAccess.Of(context)!;
            if (queue.Find(id, caller) is not { } run) return NotFound(id);
            if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot cancel twin runs");
            if (!queue.Cancel(run))
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "run ended",
                    detail: $"twin run {id} is {run.Status.State.ToString().ToLowerInvariant()}; only a queued or running run can be cancelled");
            return Results.Ok(TwinRunView.Of(run, queue));
        });
    }

    /// <summary>Largest body a run's request may have: the largest trace file, and room for the form around it.</summary>
    public static long BodyLimit(ServerSettings settings) => settings.Twin.MaxUploadBytes + (1 << 20);

    private static IResult Inputs(TwinCatalog catalog, ServerSettings settings, TwinRunQueue queue)
    {
        var limits = settings.Twin;
        return Results.Ok(new
        {
            fleets = catalog.Fleets.Keys,
            tenants = catalog.TenantTrees.Keys,
            traces = catalog.Traces.Keys,
            policies = SchedulingPolicy.All.Select(p => new { name = p.Name, needsTenants = p.Quotas != QuotaMode.None }),
            sources = new[] { "sample", "upload", "generate" },
            limits = new
            {
                maxUploadBytes = limits.MaxUploadBytes, maxJobs = limits.MaxJobs, maxGeneratedDays = limits.MaxGeneratedDays, maxGeneratedLoad = limits.MaxGeneratedLoad,
                maxActiveRuns = limits.MaxActiveRuns, maxActiveRunsPerToken = limits.MaxActiveRunsPerToken, activeRuns = queue.Active,
                keepFinishedHours = limits.KeepFinishedFor.TotalHours, maxFinishedRuns = limits.MaxFinishedRuns,
            },
        });
    }

    private static async Task<IResult> Start(HttpRequest http, TwinValidator validator, TwinRunQueue queue, IOptions<JsonOptions> json)
    {
        var context = http.HttpContext;
        var caller = CallerAccess.Of(context)!;
        if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot start twin runs");
        // At a limit, the body is not even read: a refused caller costs no parsing.
        if (queue.Refusal(caller) is { } refusal) return TooMany(context, refusal);
        TwinRunRequest? request;
        TwinUpload? upload = null;
        if (http.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await http.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception e) when (Dashboard.DashboardEndpoints.UnreadableForm(e))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"is not a readable form: {e.Message}"] });
            }
            Dictionary<string, string[]> unread;
            (request, upload, unread) = TwinForm.Read(form, antiforgeryField: null);
            if (unread.Count > 0) return Results.ValidationProblem(unread);
        }
        else
        {
            (request, var invalid) = await JsonBody.ReadAsync<TwinRunRequest>(http, json.Value.SerializerOptions);
            if (invalid is not null) return invalid;
            if (request is null) return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["must be a JSON object"] });
        }
        var checkedRequest = await validator.ValidateAsync(request, upload, context.RequestAborted);
        if (checkedRequest.Request is not { } good) return Results.ValidationProblem(checkedRequest.Errors);
        var admission = queue.Submit(caller, good);
        if (admission.Run is not { } run)
        {
            TwinValidator.Discard(good.Trace);
            return TooMany(context, admission.Refusal!);
        }
        return Results.Accepted($"/api/v1/twin/runs/{run.Id}", TwinRunView.Of(run, queue));
    }

    /// <summary>A 429 for a queue limit, with <c>Retry-After</c>.</summary>
    public static IResult TooMany(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "too many twin runs", detail: detail);
    }

    // The answer made of a succeeded run's result; 404 for a run the caller cannot see, 409 for one not done.
    private static IResult Finished(string id, HttpContext context, TwinRunQueue queue, Func<TwinResult, IResult> answer)
    {
        if (queue.Find(id, CallerAccess.Of(context)!) is not { } run) return NotFound(id);
        var status = run.Status;
        if (status.State != TwinRunState.Succeeded || run.Result is not { } result)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "no report yet",
                detail: $"twin run {id} is {status.State.ToString().ToLowerInvariant()}{(status.Error is { } e ? $" ({e})" : "")}; its report and charts come when it has succeeded");
        return answer(result);
    }

    /// <summary>
    /// A run's chart as an SVG image, or null when it has no chart <paramref name="file"/>. The image is ScottPlot's
    /// markup (no script); its own policy forbids everything but its inline style, should it be opened by itself.
    /// </summary>
    public static IResult? Chart(HttpContext context, TwinResult result, string file)
    {
        if (result.Chart(file) is not { } chart) return null;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
        headers.XContentTypeOptions = "nosniff";
        // A finished run's chart never changes; it stays in this browser only.
        headers.CacheControl = "private, max-age=3600";
        return Results.Text(chart.Svg, "image/svg+xml", System.Text.Encoding.UTF8);
    }

    private static IResult NotFound(string id, string? file = null) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "not found",
            detail: file is null ? $"no twin run {Shown(id)}" : $"twin run {Shown(id)} has no chart {Shown(file)} (its charts: {string.Join(", ", TwinSimulation.ChartFiles)})");

    // An id from the URL, echoed only when it looks like one.
    private static string Shown(string text) => text.Length <= 40 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_') ? text : "(that id)";
}
