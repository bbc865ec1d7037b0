using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>The frame of every dashboard page: header, navigation, the signed-in caller, sign-out; and the answer's headers.</summary>
internal static class DashboardLayout
{
    /// <summary>
    /// What a dashboard page may load: only this server's own style sheet and script; no inline
    /// script, no frames around it, forms only to itself.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>The pages of the navigation, in order: path and label.</summary>
    private static readonly (string Path, string Label)[] Pages = [("/fleet", "Fleet"), ("/queue", "Queue"), ("/tenants", "Tenants"), ("/services", "Services"), ("/twin", "Twin")];

    /// <summary>A whole page for a signed-in caller.</summary>
    public static IResult Page(DashboardRequest request, string title, string current, Html main, int status = StatusCodes.Status200OK)
    {
        var nav = Html.Join(Pages.Select(p => p.Path == current
            ? Html.Of($"<li><a href=\"{p.Path}\" aria-current=\"page\">{p.Label}</a></li>")
            : Html.Of($"<li><a href=\"{p.Path}\">{p.Label}</a></li>")));
        var header = Html.Of($"""
            <header class="top">
              <a class="brand" href="/fleet">GpuFleet</a>
              <nav aria-label="Pages"><ul>{nav}</ul></nav>
              <form class="signout" method="post" action="/signout">{request.AntiforgeryField}<span class="who">{request.Who}</span> <button type="submit" class="link">Sign out</button></form>
            </header>
            """);
        return Document(request.Http, title, header, main, status);
    }

    /// <summary>A whole page, signed in or not.</summary>
    public static IResult Document(HttpContext http, string title, Html header, Html main, int status = StatusCodes.Status200OK)
    {
        var html = Html.Of($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · GpuFleet</title>
            <link rel="stylesheet" href="/dashboard/app.css">
            <link rel="icon" href="data:,">
            <script src="/dashboard/app.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            {header}
            <main id="main" tabindex="-1">
            <h1>{title}</h1>
            {main}
            </main>
            </body>
            </html>
            """);
        return Answer(http, html.Text, "text/html; charset=utf-8", status);
    }

    /// <summary>
    /// A region the page's script replaces every <paramref name="everySeconds"/> seconds with what
    /// <paramref name="url"/> answers, with a line saying when it was last updated and a button that
    /// pauses it. Without script it is what the page was served with.
    /// </summary>
    public static Html LiveRegion(string id, string url, Html content, int everySeconds = 5) => Html.Of($"""
        <div class="status-line"><span data-stamp-for="{id}">Updates every {everySeconds} s.</span>
          <button type="button" data-pause-for="{id}" aria-pressed="false" hidden>Pause updates</button></div>
        <div id="{id}" data-refresh="{url}" data-every="{everySeconds}">{content}</div>
        """);

    /// <summary>A fragment of a page (what a live region's refresh replaces).</summary>
    public static IResult Fragment(HttpContext http, Html html) => Answer(http, html.Text, "text/html; charset=utf-8", StatusCodes.Status200OK);

    /// <summary>An error page in plain words, with the status it says.</summary>
    public static IResult Problem(HttpContext http, int status, string title, string detail, string backPath = "/queue", string backLabel = "Back to the queue") =>
        Document(http, title, Html.Of($"<header class=\"top\"><a class=\"brand\" href=\"/fleet\">GpuFleet</a></header>"),
            Html.Of($"<p class=\"problem\" role=\"alert\">{detail}</p><p><a href=\"{backPath}\">{backLabel}</a></p>"), status);

    private static IResult Answer(HttpContext http, string text, string type, int status)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return Results.Content(text, type, System.Text.Encoding.UTF8, status);
    }
}
