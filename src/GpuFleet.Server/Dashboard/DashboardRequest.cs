using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>One signed-in dashboard request: who asks, and the anti-forgery field its forms carry.</summary>
internal sealed class DashboardRequest(HttpContext http, Caller caller, IAntiforgery antiforgery)
{
    private Html? _field;

    /// <summary>The request.</summary>
    public HttpContext Http { get; } = http;

    /// <summary>Who asks (the token of the session cookie).</summary>
    public Caller Caller { get; } = caller;

    /// <summary>
    /// The hidden field every state-changing form carries: its value pairs with the anti-forgery
    /// cookie, and a request without the pair is refused (400).
    /// </summary>
    public Html AntiforgeryField
    {
        get
        {
            if (_field is null)
            {
                var tokens = antiforgery.GetAndStoreTokens(Http);
                _field = Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
            }
            return _field;
        }
    }

    /// <summary>Who asks, in words: "admin", "viewer of a".</summary>
    public string Who => Caller.Role == Role.Admin ? "admin" : $"{RoleName(Caller.Role)} of {Caller.Tenant}";

    /// <summary>The role as the API names it.</summary>
    public static string RoleName(Role role) => role switch
    {
        Role.TenantAdmin => "tenant-admin",
        _ => role.ToString().ToLowerInvariant(),
    };
}
