using System.Text.Json;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace GpuFleet.Server.Api;

/// <summary>The job API under <c>/api/v1/jobs</c>: submit, get, list, cancel. Errors are RFC 9457 problem documents.</summary>
public static class JobEndpoints
{
    /// <summary>Longest <c>Idempotency-Key</c> accepted.</summary>
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/v1/jobs");
        jobs.MapPost("", Submit);
        jobs.MapPost("batch", SubmitBatch);
        jobs.MapGet("{id:long}", Get);
        jobs.MapGet("", List);
        jobs.MapDelete("{id:long}", Cancel);
    }

    private static async Task<IResult> Submit(HttpRequest http, SubmissionValidator validator, JobStore store, TimeProvider clock,
        IOptions<JsonOptions> json, FleetMetrics metrics)
    {
        // Read the body here rather than by binding, so that a wrong type names its field ("$.gpus" → gpus).
        SubmitJobRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<SubmitJobRequest>(http.Body, json.Value.SerializerOptions, http.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } path ? path[2..].Split('.', '[')[0] : "body";
            return InvalidJson(field, e);
        }
        var key = http.Headers["Idempotency-Key"].ToString();
        if (key.Length > MaxIdempotencyKeyLength)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = [$"must be at most {MaxIdempotencyKeyLength} characters"] });
        var caller = CallerAccess.Of(http.HttpContext)!;
        if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot submit");
        request = ForCaller(request, caller);
        if (Refused(request, caller, "tenant") is { } refused) return refused;
        var (job, errors) = validator.Validate(request);
        if (job is null) return Results.ValidationProblem(errors);
        // The audit entry is committed with the job: one transaction, and the call waits for one commit, not two.
        var now = clock.GetUtcNow();
        var (stored, replayed) = await store.SubmitAsync(job, key.Length > 0 ? key : null, now, CallerAccess.AuditOf(http.HttpContext, StatusCodes.Status201Created, now));
        CallerAccess.MarkAudited(http.HttpContext);
        if (!replayed) metrics.Submissions.Inc();
        return Results.Created($"/api/v1/jobs/{stored.Id}", JobView.Of(stored));
    }

    /// <summary>Most jobs in one batch.</summary>
    public const int MaxBatch = 1_000;

    private static async Task<IResult> SubmitBatch(HttpRequest http, SubmissionValidator validator, JobStore store,
        TimeProvider clock, IOptions<JsonOptions> json, FleetMetrics metrics)
    {
        var caller = CallerAccess.Of(http.HttpContext)!;
        if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot submit");
        List<SubmitJobRequest?>? requests;
        try
        {
            requests = await JsonSerializer.DeserializeAsync<List<SubmitJobRequest?>>(http.Body, json.Value.SerializerOptions, http.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return InvalidJson(e.Path ?? "body", e);
        }
        if (requests is not { Count: > 0 and <= MaxBatch })
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"a JSON array of 1 to {MaxBatch} jobs is required"] });
        // All or nothing: every job is checked before any is stored; problems are named "[index].field".
        var errors = new Dictionary<string, string[]>();
        var valid = new List<NewJob>();
        for (var i = 0; i < requests.Count; i++)
        {
            var r = ForCaller(requests[i], caller);
            if (Refused(r, caller, $"[{i}].tenant") is { } refused) return refused;
            var (job, problems) = validator.Validate(r);
            foreach (var (field, list) in problems) errors[$"[{i}].{field}"] = list;
            if (job is not null) valid.Add(job);
        }
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        var stored = await store.SubmitManyAsync(valid, clock.GetUtcNow());
        metrics.Submissions.Inc(stored.Count);
        return Results.Created("/api/v1/jobs", stored.Select(JobView.Of));
    }

    private static async Task<IResult> Get(long id, HttpContext context, JobStore store, LiveScheduler scheduler, ServerSettings settings, LeaderQuery leader,
        IOptions<JsonOptions> json)
    {
        var job = store.Get(id);
        // Another tenant's job is answered as if it did not exist: ids reveal nothing.
        if (job is null || !CallerAccess.Of(context)!.Sees(job.Tenant)) return NotFound(id);
        var view = JobView.Of(job) with { History = store.History(id) };
        if (job.State != JobState.Pending) return Results.Ok(view);
        if (scheduler.IsLeader)
        {
            if (scheduler.Explain(id) is { } why)
            {
                view = view with
                {
                    PendingReason = why.Reason.ToString(),
                    PendingMessage = why.Message,
                    EstimatedStart = why.EstimatedStart is { } s ? settings.FromClock(s) : null,
                };
            }
        }
        else if (await leader.AskAsync(context, id, json.Value.SerializerOptions) is { } led)
        {
            view = view with { PendingReason = led.PendingReason, PendingMessage = led.PendingMessage, EstimatedStart = led.EstimatedStart };
        }
        return Results.Ok(view);
    }

    private static IResult List(HttpContext context, JobStore store, string? tenant, string? state, long? after, int? limit)
    {
        var caller = CallerAccess.Of(context)!;
        if (caller.Role != Role.Admin) tenant = caller.Tenant;
        JobState? parsed = null;
        if (state is not null)
        {
            if (!Enum.TryParse<JobState>(state, ignoreCase: true, out var s) || int.TryParse(state, out _))
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["state"] = [$"must be one of {string.Join(", ", Enum.GetNames<JobState>().Select(n => n.ToLowerInvariant()))}"] });
            parsed = s;
        }
        if (limit is < 1 or > 1000) return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["must be between 1 and 1000"] });
        var take = limit ?? 100;
        var items = store.List(tenant, parsed, after ?? 0, take);
        return Results.Ok(new { items = items.Select(JobView.Of), next = items.Count == take ? items[^1].Id : (long?)null });
    }

    private static IResult Cancel(long id, HttpContext context, JobStore store, TimeProvider clock)
    {
        var caller = CallerAccess.Of(context)!;
        // Compare-and-set on the state seen: a job that moved meanwhile is read again.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var job = store.Get(id);
            if (job is null || !caller.Sees(job.Tenant)) return NotFound(id);
            if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot cancel");
            if (JobTransitions.IsFinal(job.State))
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "job already finished",
                    detail: $"job {id} is {job.State.ToString().ToLowerInvariant()}; a finished job cannot be cancelled");
            if (store.Transition(id, job.State, JobState.Cancelled, clock.GetUtcNow(), "cancelled by request"))
            {
                return Results.Ok(JobView.Of(store.Get(id)!));
            }
        }
        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "job is changing", detail: $"job {id} changed state repeatedly; try again");
    }

    // A submission without a tenant is for the token's own tenant.
    private static SubmitJobRequest? ForCaller(SubmitJobRequest? request, Caller caller) =>
        request is { Tenant: null } && caller.Tenant is not null ? request with { Tenant = caller.Tenant } : request;

    private static IResult? Refused(SubmitJobRequest? request, Caller caller, string field) =>
        request?.Tenant is { } asked && !caller.Sees(asked)
            ? TokenEndpoints.Forbidden($"{field}: a token of tenant '{caller.Tenant}' submits for '{caller.Tenant}' only")
            : null;

    private static IResult InvalidJson(string field, JsonException e) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [$"is not valid JSON here: {e.Message.Split(" Path:")[0]}"] });

    private static IResult NotFound(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "job not found", detail: $"no job {id}");
}
