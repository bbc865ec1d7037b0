namespace GpuFleet.Server.Dashboard;

/// <summary>The sign-in form: the token goes in the body of a POST, never in a URL.</summary>
internal static class SignInPage
{
    /// <summary>The form, with <paramref name="problem"/> above it when the last try failed.</summary>
    public static Html Main(Html antiforgeryField, string? problem)
    {
        var error = problem is null ? Html.Empty : Html.Of($"<p class=\"problem\" role=\"alert\" id=\"signin-problem\">{problem}</p>");
        return Html.Of($"""
            {error}
            <form class="signin" method="post" action="/signin">
              {antiforgeryField}
              <label for="token">API token</label>
              <input id="token" name="token" type="password" autocomplete="current-password" required maxlength="{DashboardSession.MaxTokenLength}"{(problem is null ? Html.Empty : Html.Raw(" aria-describedby=\"signin-problem\""))}>
              <p class="muted">The token <code>gpufleet serve</code> printed, or one minted with <code>POST /api/v1/tokens</code>. It is kept in a cookie this page's scripts cannot read, until the browser closes or you sign out.</p>
              <button type="submit">Sign in</button>
            </form>
            """);
    }
}
