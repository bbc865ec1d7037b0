using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The usage CSV for a signed-in browser. <c>GET /api/v1/usage?format=csv</c> wants the token as a
/// bearer header, which a link cannot send; so the dashboard asks its own server's API for it with
/// the session's token, as <c>LeaderQuery</c> asks the leader with the caller's: the report is the
/// API's own, with its access rules (a tenant's token gets its tenant's rows), not a second copy.
/// </summary>
internal static class UsageDownload
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The CSV as a download, or the page that says why not.</summary>
    public static async Task<IResult> AnswerAsync(HttpContext http, IServer server)
    {
        if (OwnAddress(server) is not { } own || DashboardSession.Token(http) is not { } token)
            return DashboardLayout.Problem(http, StatusCodes.Status503ServiceUnavailable, "Usage not available", "This server has no HTTP address to ask its API at.");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{own}/api/v1/usage?format=csv");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await Http.SendAsync(request, http.RequestAborted);
            if (!response.IsSuccessStatusCode)
                return DashboardLayout.Problem(http, (int)response.StatusCode, "Usage not available", $"The usage report answered {(int)response.StatusCode}.");
            var csv = await response.Content.ReadAsStringAsync(http.RequestAborted);
            http.Response.Headers.ContentDisposition = "attachment; filename=\"gpufleet-usage.csv\"";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "no-store";
            return Results.Text(csv, "text/csv; charset=utf-8");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return DashboardLayout.Problem(http, StatusCodes.Status503ServiceUnavailable, "Usage not available", "The usage report did not answer in time; try again.");
        }
    }

    // An address this server listens on, plain HTTP first, with a wildcard host made the loopback one.
    private static string? OwnAddress(IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var chosen = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault();
        if (chosen is null) return null;
        foreach (var wildcard in new[] { "0.0.0.0", "[::]", "+", "*" })
        {
            var scheme = chosen.IndexOf("://", StringComparison.Ordinal) + 3;
            if (string.CompareOrdinal(chosen, scheme, wildcard + ":", 0, wildcard.Length + 1) == 0)
                return chosen[..scheme] + (wildcard == "[::]" ? "[::1]" : "127.0.0.1") + chosen[(scheme + wildcard.Length)..].TrimEnd('/');
        }
        return chosen.TrimEnd('/');
    }
}
