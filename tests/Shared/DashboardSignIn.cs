using System.Net;
using System.Text.RegularExpressions;
using Xunit;

namespace GpuFleet.Tests.Shared;

/// <summary>A client that keeps cookies and signs in to the dashboard through its form, as a browser does.</summary>
public static partial class DashboardSignIn
{
    /// <summary>A client of the server at <paramref name="url"/>, signed in with <paramref name="token"/>.</summary>
    public static async Task<HttpClient> ClientAsync(string url, string token)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
        var form = await client.GetStringAsync("/signin");
        var field = AntiforgeryField().Match(form);
        Assert.True(field.Success, "the sign-in form has no anti-forgery field");
        using var answer = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(field.Groups[1].Value),
            ["token"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        return client;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
