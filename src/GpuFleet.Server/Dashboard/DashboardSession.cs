using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The dashboard's sign-in: the API token itself, kept in a cookie the page's scripts cannot read
/// (HttpOnly), that the browser sends only on requests from this site's own pages (SameSite=Strict,
/// so another site cannot make a signed-in browser act), Secure when served over HTTPS, and that ends
/// with the browser session. The token is looked up exactly as the API does, so a revoked token ends
/// the session at once, and a tenant's token sees what it sees through the API.
/// </summary>
internal static class DashboardSession
{
    /// <summary>The cookie's name.</summary>
    public const string CookieName = "gpufleet_session";

    /// <summary>Longest token looked at (a token is 46 characters).</summary>
    public const int MaxTokenLength = 200;

    /// <summary>
    /// The caller whose token the request's cookie holds, or null. A caller found becomes the request's
    /// user (its token's id), so that the anti-forgery tokens its pages carry are bound to that session:
    /// a pair taken from another session, or from the signed-out sign-in form, does not validate for it.
    /// </summary>
    public static async Task<Caller?> CallerAsync(HttpContext context, TokenStore tokens)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var token) || token is not { Length: > 0 and <= MaxTokenLength }) return null;
        var caller = await tokens.FindAsync(token, context.RequestAborted);
        if (caller is not null)
            context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, caller.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                authenticationType: "gpufleet-session"));
        return caller;
    }

    /// <summary>The token the session cookie holds (for a request already known to be signed in).</summary>
    public static string? Token(HttpContext context) => context.Request.Cookies.TryGetValue(CookieName, out var token) ? token : null;

    /// <summary>Keeps <paramref name="token"/> in the session cookie.</summary>
    public static void SignIn(HttpContext context, string token) =>
        context.Response.Cookies.Append(CookieName, token, Options(context));

    /// <summary>Ends the session.</summary>
    public static void SignOut(HttpContext context) => context.Response.Cookies.Delete(CookieName, Options(context));

    private static CookieOptions Options(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };
}
