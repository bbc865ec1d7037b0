using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Security;

/// <summary>
/// Authenticates every <c>/api/</c> call by its bearer token (401 without a known one) and writes
/// each state-changing call to the audit log with the answer's status.
/// </summary>
public sealed class CallerAccess(RequestDelegate next, TokenStore tokens, TimeProvider clock)
{
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

    /// <summary>Middleware entry.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next(context);
            return;
        }
        var header = context.Request.Headers.Authorization.ToString();
        var caller = header.StartsWith("Bearer ", StringComparison.Ordinal) && header.Length < 1_000 ? tokens.Find(header[7..].Trim()) : null;
        if (caller is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "unauthenticated",
                detail: "send a valid token: Authorization: Bearer <token>").ExecuteAsync(context);
            return;
        }
        context.Items[Key] = caller;
        try
        {
            await next(context);
        }
        finally
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !context.Items.ContainsKey(AuditedKey))
                await tokens.AuditAsync(AuditOf(context, context.Response.StatusCode, clock.GetUtcNow()));
        }
    }
}
