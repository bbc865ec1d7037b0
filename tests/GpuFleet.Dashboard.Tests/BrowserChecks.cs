using Deque.AxeCore.Playwright;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace GpuFleet.Dashboard.Tests;

/// <summary>
/// What every browser test of the dashboard does: sign in through the form, watch a page for console
/// errors, failed requests and error answers, and check a page — loaded, nothing wrong seen, no serious
/// or critical axe violation, no sideways scrolling of the page itself — and photograph it.
/// </summary>
internal static class BrowserChecks
{
    /// <summary>The desktop and phone sizes every page is checked at.</summary>
    public static readonly (int Width, int Height)[] Viewports = [(1280, 800), (390, 844)];

    /// <summary>How long a browser action or navigation may wait before the test fails.</summary>
    public const float WaitMs = 90_000;

    /// <summary>What went wrong on a page so far.</summary>
    public sealed record PageProblems(List<string> Items);

    /// <summary>A new browser context signed in with <paramref name="token"/>.</summary>
    public static async Task<IBrowserContext> SignedInAsync(IBrowser browser, string url, string token, BrowserNewContextOptions? options = null)
    {
        var context = await browser.NewContextAsync(options);
        // A bound on waiting, not a speed check: on a shared 2-core machine running other test assemblies beside
        // this one, a page may take longer than Playwright's default 30 s to come.
        context.SetDefaultTimeout(WaitMs);
        context.SetDefaultNavigationTimeout(WaitMs);
        var page = await context.NewPageAsync();
        await page.GotoAsync(url + "/signin");
        await SignInOnAsync(page, token);
        await page.CloseAsync();
        return context;
    }

    /// <summary>Signs in on <paramref name="page"/> through the form and waits for the queue.</summary>
    public static async Task SignInOnAsync(IPage page, string token)
    {
        if (!page.Url.EndsWith("/signin", StringComparison.Ordinal)) await page.GotoAsync(new Uri(new Uri(page.Url), "/signin").ToString());
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await ReachesAsync(page, new Regex("/queue$"));
    }

    /// <summary>
    /// Waits until <paramref name="page"/>'s address matches <paramref name="url"/>, then for the page to load; if it
    /// does not, fails saying where the page is and what it says.
    /// </summary>
    /// <remarks>
    /// Not <c>IPage.WaitForURLAsync</c>: in Playwright for .NET it checks the address and then subscribes to
    /// navigation events, and a navigation delivered between the two is lost, so the wait runs out on a page that
    /// is already there (microsoft/playwright-dotnet#3364; seen here as "signing in did not reach the queue" on
    /// the queue page). <c>ToHaveURLAsync</c> polls the address in the driver instead, and a load state, once
    /// reached, is recorded, so the wait for it that follows cannot miss it.
    /// </remarks>
    public static async Task ReachesAsync(IPage page, Regex url, float timeoutMs = WaitMs)
    {
        try
        {
            await Assertions.Expect(page).ToHaveURLAsync(url, new() { Timeout = timeoutMs });
            await page.WaitForLoadStateAsync(LoadState.Load, new() { Timeout = timeoutMs });
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            throw new TimeoutException($"the page did not reach {url}: it is {page.Url}, saying: {await page.Locator("body").InnerTextAsync()}", e);
        }
    }

    /// <summary>Starts watching <paramref name="page"/> for console errors, page errors, failed requests and answers of 400 or more.</summary>
    public static PageProblems Watch(IPage page)
    {
        page.SetDefaultTimeout(WaitMs);
        page.SetDefaultNavigationTimeout(WaitMs);
        var problems = new PageProblems([]);
        page.Console += (_, m) =>
        {
            if (m.Type == "error") problems.Items.Add($"console: {m.Text}");
        };
        page.PageError += (_, e) => problems.Items.Add($"page error: {e}");
        page.RequestFailed += (_, r) => problems.Items.Add($"failed: {r.Url} {r.Failure}");
        page.Response += (_, r) =>
        {
            if (r.Status >= 400) problems.Items.Add($"{r.Status}: {r.Url}");
        };
        return problems;
    }

    /// <summary>
    /// Checks the page as it is now: loaded, nothing in <paramref name="problems"/>, no serious or critical axe
    /// violation, the page no wider than the window; saves a full-page screenshot as <paramref name="name"/>.png.
    /// </summary>
    public static async Task CheckAsync(IPage page, PageProblems problems, string name, string screenshots)
    {
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.True(problems.Items.Count == 0, $"{name}: {string.Join("; ", problems.Items)}");
        var axe = await page.RunAxe();
        var serious = axe.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{name}: " + string.Join("; ", serious.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));
        var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"{name}: the page is {overflow} px wider than the window");
        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, name + ".png"), FullPage = true });
    }

    /// <summary>Form fields for a request made from a context's own cookies.</summary>
    public static IFormData FormOf(IBrowserContext context, Dictionary<string, string> fields)
    {
        var form = context.APIRequest.CreateFormData();
        foreach (var (k, v) in fields) form.Set(k, v);
        return form;
    }
}
