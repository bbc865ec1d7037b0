using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Security;

/// <summary>
/// Authenticates every <c>/api/</c> call by its bearer token (401 without a known one; 429 for an
/// address with too many failures, unless its token is one this replica has recently looked up) and
/// writes each state-changing call to the audit log with the status the client got. Refused calls
/// (401, 403, 429) are not written: a flood of them would fill the log; they are counted in the
/// metrics instead.
/// </summary>
public sealed class CallerAccess(RequestDelegate next, TokenStore tokens, TimeProvider clock, FailedAuthentications failures)
{
    /// <summary>Longest <c>Authorization</c> header looked at (a token is 46 characters).</summary>
    public const int MaxAuthorizationLength = 1_000;

    private const string Key = "gpufleet.caller";
    private const string AuditedKey = "gpufleet.audited";

    /// <summary>The authenticated caller of a request, or null.</summary>
    public static Caller? Of(HttpContext context) => context.Items.TryGetValue(Key, out var c) ? c as Caller : null;

    /// <summary>The audit entry for this call, answered with <paramref name="status"/> (for an endpoint that stores it with its change).</summary>
    public static AuditEntry AuditOf(HttpContext context, int status, DateTimeOffset at)
    {
        var caller = Of(context);
        return new AuditEntry(at, caller?.TokenId, caller?.Role.ToString(), caller?.Tenant, context.Request.Method, context.Request.Path, status);
    }

    /// <summary>Marks the call as audited already (its entry was committed with its change), so that it is not written twice.</summary>
    public static void MarkAudited(HttpContext context) => context.Items[AuditedKey] = true;

    /// <summary>Whether <paramref name="status"/> refuses a call (unauthenticated, forbidden, over the rate): such calls are counted, not audited.</summary>
    public static bool IsRefusal(int status) => status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status429TooManyRequests;

    /// <summary>
    /// The status answered for a call that threw <paramref name="e"/> before its answer started: the
    /// status a bad request carries (413 for a body over the limit), otherwise 500. The exception
    /// handler answers with it, so that the audit log records what the client got.
    /// </summary>
    public static int FailureStatus(Exception e) => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;

    // What the client got from a call that threw: the status already sent if the answer had started;
    // 499 (as the exception handler sets it) if the client went away; else what the handler answers.
    private static int StatusAfter(HttpContext context, Exception e) =>
        context.Response.HasStarted ? context.Response.StatusCode
        : e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested ? StatusCodes.Status499ClientClosedRequest
        : FailureStatus(e);

    /// <summary>Middleware entry.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next(context);
            return;
        }
        var address = ClientAddress.Of(context);
        var token = BearerToken(context.Request.Headers.Authorization.ToString());
        Caller? caller;
        if (failures.Barred(address) is { } retryAfter)
        {
            // A barred address (say, a NAT shared with an attacker) keeps the tokens this replica knows
            // already: they cost a hash and no database read. Anything else waits.
            caller = token is null ? null : tokens.FindRemembered(token);
            if (caller is null)
            {
                await TooManyRequests.AnswerAsync(context, retryAfter, "too many failed authentications from this address");
                return;
            }
        }
        else
        {
            // Not stopped when the client goes away: a state-changing call goes on to be audited (499) as it always was.
            caller = token is null ? null : await tokens.FindAsync(token);
        }
        if (caller is null)
        {
            failures.Record(address);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "unauthenticated",
                detail: "send a valid token: Authorization: Bearer <token>").ExecuteAsync(context);
            return;
        }
        context.Items[Key] = caller;
        int? failedWith = null;
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            // The status is not set yet: the exception handler, further out, answers.
            failedWith = StatusAfter(context, e);
            throw;
        }
        finally
        {
            var status = failedWith ?? context.Response.StatusCode;
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !context.Items.ContainsKey(AuditedKey) && !IsRefusal(status))
                await tokens.AuditAsync(AuditOf(context, status, clock.GetUtcNow()));
        }
    }

    /// <summary>
    /// The token of an <c>Authorization: Bearer &lt;token&gt;</c> header, or null. The scheme is
    /// case-insensitive (RFC 9110 §11.1) and spaces around the parts are tolerated.
    /// </summary>
    internal static string? BearerToken(string header)
    {
        if (header.Length > MaxAuthorizationLength) return null;
        var value = header.AsSpan().Trim();
        var gap = value.IndexOfAny(' ', '\t');
        if (gap < 0 || !value[..gap].Equals("Bearer", StringComparison.OrdinalIgnoreCase)) return null;
        var token = value[gap..].Trim();
        return token.Length == 0 || token.IndexOfAny(' ', '\t') >= 0 ? null : token.ToString();
    }
}
