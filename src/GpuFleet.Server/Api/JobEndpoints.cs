using System.Globalization;
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

/// <summary>The job API under <c>/api/v1/jobs</c>: submit, get, list, cancel, the job's log. Errors are RFC 9457 problem documents.</summary>
public static class JobEndpoints
{
    /// <summary>Longest <c>Idempotency-Key</c> accepted.</summary>
    public const int MaxIdempotencyKeyLength = RequestText.MaxLength;
    /// <summary>Most problems named in the answer to a refused batch (one per job and field).</summary>
    public const int MaxReportedProblems = 100;
    /// <summary>Most jobs in one page of <c>GET /api/v1/jobs</c> (<c>limit</c>).</summary>
    public const int MaxPage = 1_000;

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/v1/jobs");
        jobs.MapPost("", Submit);
        jobs.MapPost("batch", SubmitBatch);
        jobs.MapGet("{id:long}", Get);
        jobs.MapGet("", List);
        jobs.MapDelete("{id:long}", Cancel);
        jobs.MapGet("{id}/log", Log);
    }

    private static async Task<IResult> Submit(HttpRequest http, SubmissionValidator validator, JobStore store, TimeProvider clock,
        IOptions<JsonOptions> json, FleetMetrics metrics)
    {
        // Read the body here rather than by binding, so that a wrong type names its field ("$.gpus" → gpus).
        var (request, invalid) = await JsonBody.ReadAsync<SubmitJobRequest>(http, json.Value.SerializerOptions);
        if (invalid is not null) return invalid;
        if (IdempotencyKeyOf(http, out var key) is { } badKey) return badKey;
        var caller = CallerAccess.Of(http.HttpContext)!;
        if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot submit");
        request = ForCaller(request, caller);
        if (Refused(request, caller, "tenant") is { } refused) return refused;
        var (job, errors) = validator.Validate(request);
        if (job is null) return Results.ValidationProblem(errors);
        // The audit entry is committed with the job: one transaction, and the call waits for one commit, not two.
        var now = clock.GetUtcNow();
        var (stored, outcome) = await store.SubmitAsync(job, key is null ? null : IdempotencyKey.For(key, caller, [job], batch: false), now,
            CallerAccess.AuditOf(http.HttpContext, StatusCodes.Status201Created, now));
        if (outcome == SubmitOutcome.KeyReused) return KeyReused(key!);
        CallerAccess.MarkAudited(http.HttpContext);
        if (outcome == SubmitOutcome.Stored) metrics.Submissions.Inc();
        return Results.Created($"/api/v1/jobs/{stored!.Id}", JobView.Of(stored));
    }

    // The Idempotency-Key header (null when absent), or the 400 answer when it is past its bound or holds control characters.
    private static IResult? IdempotencyKeyOf(HttpRequest http, out string? key)
    {
        var given = http.Headers["Idempotency-Key"].ToString();
        key = given.Length > 0 ? given : null;
        return key is not null && RequestText.Problem(key, MaxIdempotencyKeyLength) is { } problem
            ? Results.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = [problem] })
            : null;
    }

    private static IResult KeyReused(string key) =>
        Results.ValidationProblem(new Dictionary<string, string[]>
        {
            ["Idempotency-Key"] = [$"'{key}' was used before for another request (another body or another token); a new request needs a new key"],
        }, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused");

    /// <summary>Most jobs in one batch.</summary>
    public const int MaxBatch = 1_000;

    private static async Task<IResult> SubmitBatch(HttpRequest http, SubmissionValidator validator, JobStore store,
        TimeProvider clock, IOptions<JsonOptions> json, FleetMetrics metrics)
    {
        var caller = CallerAccess.Of(http.HttpContext)!;
        if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot submit");
        var (requests, invalid) = await JsonBody.ReadAsync<List<SubmitJobRequest?>>(http, json.Value.SerializerOptions, batch: true);
        if (invalid is not null) return invalid;
        if (requests is not { Count: > 0 and <= MaxBatch })
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"a JSON array of 1 to {MaxBatch} jobs is required"] });
        if (IdempotencyKeyOf(http, out var key) is { } badKey) return badKey;
        // All or nothing: every job is checked before any is stored; problems are named "[index].field".
        var errors = new Dictionary<string, string[]>();
        var unreported = 0;
        var valid = new List<NewJob>();
        for (var i = 0; i < requests.Count; i++)
        {
            var r = ForCaller(requests[i], caller);
            if (Refused(r, caller, $"[{i}].tenant") is { } refused) return refused;
            var (job, problems) = validator.Validate(r);
            foreach (var (field, list) in problems)
            {
                if (errors.Count < MaxReportedProblems) errors[$"[{i}].{field}"] = list;
                else unreported++;
            }
            if (job is not null) valid.Add(job);
        }
        if (unreported > 0) errors["body"] = [$"{unreported} more problems are not shown"];
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        // The batch is one request: one key, one audit entry, both committed with its jobs.
        var now = clock.GetUtcNow();
        var (stored, outcome) = await store.SubmitManyAsync(valid, now, key is null ? null : IdempotencyKey.For(key, caller, valid, batch: true),
            CallerAccess.AuditOf(http.HttpContext, StatusCodes.Status201Created, now));
        if (outcome == SubmitOutcome.KeyReused) return KeyReused(key!);
        CallerAccess.MarkAudited(http.HttpContext);
        if (outcome == SubmitOutcome.Stored) metrics.Submissions.Inc(stored.Count);
        return Results.Created("/api/v1/jobs", stored.Select(JobView.Of));
    }

    private static async Task<IResult> Get(long id, HttpContext context, JobStore store, LiveScheduler scheduler, ServerSettings settings, LeaderQuery leader,
        IOptions<JsonOptions> json, TimeProvider clock)
    {
        var job = await store.GetAsync(id, context.RequestAborted);
        // Another tenant's job is answered as if it did not exist: ids reveal nothing.
        if (job is null || !CallerAccess.Of(context)!.Sees(job.Tenant)) return NotFound(id);
        var history = await store.HistoryAsync(id, context.RequestAborted);
        var nodes = PlacementText.Parse(job.Placement, settings.Fleet);
        var view = JobView.Of(job) with
        {
            History = history,
            Nodes = nodes,
            // GPU-equivalents × time: a slice job is charged its slices' shares, not the GPUs they are on.
            GpuSeconds = job.GpuEquivalents * ChargedTime.Seconds(history, clock.GetUtcNow()),
        };
        if (job.State == JobState.Running && await scheduler.WaitingInClusterAsync(id, nodes, context.RequestAborted) is { } waiting)
            view = view with { WaitingInCluster = waiting };
        if (job.State != JobState.Pending) return Results.Ok(view);
        if (scheduler.IsLeader)
        {
            if (await scheduler.ExplainAsync(id, context.RequestAborted) is { } why)
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

    // The query's numbers are read here rather than bound, so that a bad one is a 400 naming it.
    private static async Task<IResult> List(HttpContext context, JobStore store, string? tenant, string? state, string? after, string? limit)
    {
        var caller = CallerAccess.Of(context)!;
        if (tenant is not null && RequestText.Problem(tenant) is { } badTenant)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = [badTenant] });
        if (caller.Role != Role.Admin) tenant = caller.Tenant;
        JobState? parsed = null;
        if (state is not null)
        {
            if (!Enum.TryParse<JobState>(state, ignoreCase: true, out var s) || int.TryParse(state, out _))
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["state"] = [$"must be one of {string.Join(", ", Enum.GetNames<JobState>().Select(n => n.ToLowerInvariant()))}"] });
            parsed = s;
        }
        var take = 100;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxPage))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"must be a whole number from 1 to {MaxPage}"] });
        var afterId = 0L;
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterId))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["after"] = ["must be a job id (a whole number, 0 or more)"] });
        var items = await store.ListAsync(tenant, parsed, afterId, take, context.RequestAborted);
        return Results.Ok(new { items = items.Select(JobView.Of), next = items.Count == take ? items[^1].Id : (long?)null });
    }

    private static async Task<IResult> Cancel(long id, HttpContext context, JobStore store, TimeProvider clock)
    {
        var caller = CallerAccess.Of(context)!;
        // Compare-and-set on the state seen: a job that moved meanwhile is read again.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            // Reads may stop when the client goes away; the write below, once queued, always finishes (and is audited).
            var job = await store.GetAsync(id, context.RequestAborted);
            if (job is null || !caller.Sees(job.Tenant)) return NotFound(id);
            if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot cancel");
            if (JobTransitions.IsFinal(job.State))
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "job already finished",
                    detail: $"job {id} is {job.State.ToString().ToLowerInvariant()}; a finished job cannot be cancelled");
            // The audit entry is committed with the cancellation.
            var now = clock.GetUtcNow();
            if (await store.TransitionAsync(id, job.State, JobState.Cancelled, now, "cancelled by request", CallerAccess.AuditOf(context, StatusCodes.Status200OK, now)))
            {
                CallerAccess.MarkAudited(context);
                // Audited as answered 200: the answer is built whether or not the client still waits for it.
                return Results.Ok(JobView.Of((await store.GetAsync(id, CancellationToken.None))!));
            }
        }
        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "job is changing", detail: $"job {id} changed state repeatedly; try again");
    }

    // The job's output from byte `offset` on, as far as it is written now: from this replica's log directory, else (on a
    // replica that does not lead) from the leader's (LeaderLog). The id is read here rather than bound, so
    // that anything but a plain number is a 400 naming it: only a number the server formats itself reaches a file name.
    private static async Task<IResult> Log(string id, string? offset, HttpContext context, JobStore store, ServerSettings settings, LiveScheduler scheduler, LeaderLog leader)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be a job id (a whole number, 0 or more)"] });
        var from = 0L;
        if (offset is not null && !long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out from))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["offset"] = ["must be a byte offset (a whole number, 0 or more)"] });
        var job = await store.GetAsync(jobId, context.RequestAborted);
        if (job is null || !CallerAccess.Of(context)!.Sees(job.Tenant)) return NotFound(jobId);
        if (settings.JobLogDirectory is not { } directory) return NoLog(jobId);
        FileStream log;
        try
        {
            // Shared with the job that still writes it (and with a cleaner that may remove it).
            log = new FileStream(Path.Combine(directory, Executors.Local.LocalExecutor.LogFileName(settings.Installation, jobId)),
                FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Not on this machine: the leader runs the local executor and keeps what it writes. (The caller may see the
            // job: that was checked above, before anyone else is asked.)
            return scheduler.IsLeader || !LeaderLog.MayForward(context) ? NoLog(jobId) : await leader.AskAsync(context, jobId, from);
        }
        context.Response.RegisterForDisposeAsync(log);
        // What is written by now, no further: a job writing faster than the client reads would never let the answer end.
        var left = Math.Max(0, log.Length - from);
        if (left > 0) log.Seek(from, SeekOrigin.Begin);
        return Results.Stream(async body =>
        {
            var buffer = new byte[64 * 1024];
            while (left > 0)
            {
                var read = await log.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), context.RequestAborted);
                // Truncated meanwhile: the answer ends short, and the client's count of the bytes it got still says where it is.
                if (read == 0) break;
                await body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                left -= read;
            }
        }, "text/plain; charset=utf-8");
    }

    private static IResult NoLog(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "log not found", detail: $"job {id} has no log");

    // A submission without a tenant is for the token's own tenant.
    private static SubmitJobRequest? ForCaller(SubmitJobRequest? request, Caller caller) =>
        request is { Tenant: null } && caller.Tenant is not null ? request with { Tenant = caller.Tenant } : request;

    private static IResult? Refused(SubmitJobRequest? request, Caller caller, string field) =>
        request?.Tenant is { } asked && !caller.Sees(asked)
            ? TokenEndpoints.Forbidden($"{field}: a token of tenant '{caller.Tenant}' submits for '{caller.Tenant}' only")
            : null;

    private static IResult NotFound(long id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "job not found", detail: $"no job {id}");
}
