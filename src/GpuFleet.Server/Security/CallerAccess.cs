using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Security;

/// <summary>
/// Authenticates every <c>/api/</c> call by its bearer token (401 without a known one) and writes
/// each state-changing call to the audit log with the answer's status.
/// </summary>
public sealed class CallerAccess(RequestDelegate next, TokenStore tokens, TimeProvider clock)
{
    private const string Key = "gpufleet.caller";

    /// <summary>The authenticated caller of a request, or null.</summary>
    public static Caller? Of(HttpContext context) => context.Items.TryGetValue(Key, out var c) ? c as Caller : null;

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
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
                await tokens.AuditAsync(caller, context.Request.Method, context.Request.Path, context.Response.StatusCode, clock.GetUtcNow());
        }
    }
}
