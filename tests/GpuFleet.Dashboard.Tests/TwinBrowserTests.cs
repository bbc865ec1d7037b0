using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace GpuFleet.Dashboard.Tests;

/// <summary>
/// The Twin page in a real browser: a run started from the form on the shipped sample with two policies
/// completes with its charts (images loaded, nothing failed, axe clean at both widths) and its report; a bad
/// form comes back with each problem named; a viewer has no form; another tenant's run does not exist by URL.
/// </summary>
[Trait("Category", "Browser")]
public sealed partial class TwinBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private DashboardServer Server => fixture.Server;

    [GeneratedRegex("/twin/runs/([0-9a-f]{16})$")]
    private static partial Regex RunUrl();

    [Fact]
    public async Task A_twin_run_started_from_the_page_completes_with_its_charts()
    {
        var member = await Server.MintAsync("member", "a");
        string? id = null;
        foreach (var (width, height) in BrowserChecks.Viewports)
        {
            await using var context = await BrowserChecks.SignedInAsync(fixture.Browser, Server.Url, member, new() { ViewportSize = new() { Width = width, Height = height } });
            var page = await context.NewPageAsync();
            var problems = BrowserChecks.Watch(page);
            await page.GotoAsync(Server.Url + "/twin");
            await BrowserChecks.CheckAsync(page, problems, $"twin-{width}x{height}", fixture.Screenshots);
            if (id is null)
            {
                // The Twin link of the navigation is this page's.
                Assert.Equal("page", await page.GetByRole(AriaRole.Link, new() { Name = "Twin", Exact = true }).GetAttributeAsync("aria-current"));
                await page.GetByLabel("Fleet", new() { Exact = true }).SelectOptionAsync("philly");
                await page.GetByLabel("A shipped sample").CheckAsync();
                await page.GetByLabel("Sample trace").SelectOptionAsync("philly-2017-10");
                await page.GetByRole(AriaRole.Checkbox, new() { Name = "fifo" }).CheckAsync();
                await page.GetByRole(AriaRole.Checkbox, new() { Name = "backfill" }).CheckAsync();
                await page.GetByRole(AriaRole.Checkbox, new() { Name = "fairshare" }).UncheckAsync();
                // Started by keyboard: the button takes Enter as a click.
                await page.GetByRole(AriaRole.Button, new() { Name = "Start the run" }).FocusAsync();
                await page.Keyboard.PressAsync("Enter");
                await BrowserChecks.ReachesAsync(page, RunUrl());
                id = RunUrl().Match(page.Url).Groups[1].Value;
                Assert.Contains("fifo, backfill", await page.Locator("dl.facts").InnerTextAsync());
            }
            else
            {
                await page.GotoAsync($"{Server.Url}/twin/runs/{id}");
            }
            // The page follows the run on its own until it has ended, then shows the charts side by side.
            await Assertions.Expect(page.Locator("figure.chart img")).ToHaveCountAsync(4, new() { Timeout = 120_000 });
            var loaded = await page.Locator("figure.chart img").EvaluateAllAsync<int[]>("images => images.map(i => i.complete ? i.naturalWidth : 0)");
            Assert.All(loaded, w => Assert.True(w > 0, "a chart did not load"));
            // Each chart says in words what it shows, with the figures of both policies.
            foreach (var alt in await page.Locator("figure.chart img").EvaluateAllAsync<string[]>("images => images.map(i => i.alt)"))
            {
                Assert.Contains("fifo", alt);
                Assert.Contains("backfill", alt);
            }
            Assert.Equal(4, await page.Locator("figure.chart figcaption").CountAsync());
            Assert.Contains("Utilization", await page.Locator("#twin-status table").First.InnerTextAsync());
            await BrowserChecks.CheckAsync(page, problems, $"twin-run-{width}x{height}", fixture.Screenshots);

            // The report is the JSON simulate writes, keyed by the two policies, for the sample.
            var download = await context.APIRequest.GetAsync($"{Server.Url}/twin/runs/{id}/report.json");
            Assert.Equal(200, download.Status);
            using var report = JsonDocument.Parse(await download.TextAsync());
            Assert.Equal(["fifo", "backfill"], report.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal("philly-2017-10.csv.gz", report.RootElement.GetProperty("fifo").GetProperty("trace").GetString());
        }
        // Listed on the Twin page as done.
        await using var again = await BrowserChecks.SignedInAsync(fixture.Browser, Server.Url, member);
        var list = await again.NewPageAsync();
        await list.GotoAsync(Server.Url + "/twin");
        Assert.Contains("succeeded", await list.Locator($"#twin-run-{id}").InnerTextAsync());
    }

    [Fact]
    public async Task A_tenant_cannot_see_another_tenants_run_by_its_url()
    {
        var a = Server.ClientWith(await Server.MintAsync("member", "a"));
        using var started = await a.PostAsJsonAsync("/api/v1/twin/runs", new { fleet = "philly", policies = new[] { "fifo" }, trace = "philly-2017-10" });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        await using var context = await BrowserChecks.SignedInAsync(fixture.Browser, Server.Url, await Server.MintAsync("member", "b"));
        var page = await context.NewPageAsync();
        foreach (var path in new[] { $"/twin/runs/{id}", $"/twin/runs/{id}/status", $"/twin/runs/{id}/report.json", $"/twin/runs/{id}/charts/power.svg" })
            Assert.Equal(404, (await page.GotoAsync(Server.Url + path))!.Status);
        await page.GotoAsync(Server.Url + "/twin");
        Assert.DoesNotContain(id, await page.Locator("main").InnerTextAsync());
        // Cancelling it with b's session (a valid form token, a forged run id) is a 404 too.
        var token = await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var cancel = await context.APIRequest.PostAsync($"{Server.Url}/twin/runs/{id}/cancel",
            new() { Form = BrowserChecks.FormOf(context, new() { ["__RequestVerificationToken"] = token! }), MaxRedirects = 0 });
        Assert.Equal(404, cancel.Status);
        Assert.NotEqual("cancelled", (await a.GetFromJsonAsync<JsonElement>($"/api/v1/twin/runs/{id}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_bad_form_comes_back_filled_in_with_each_problem_named_and_a_viewer_has_no_form()
    {
        await using var context = await BrowserChecks.SignedInAsync(fixture.Browser, Server.Url, await Server.MintAsync("member", "a"));
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.Url + "/twin");
        await page.GetByLabel("Fleet", new() { Exact = true }).SelectOptionAsync("philly");
        await page.GetByLabel("A generated workload").CheckAsync();
        await page.GetByLabel("Load", new() { Exact = true }).FillAsync("0.9");
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "shared" }).CheckAsync();
        var answer = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Start the run" }).ClickAsync(),
            r => r.Url.EndsWith("/twin/runs", StringComparison.Ordinal));
        Assert.Equal(400, answer.Status);
        var alert = await page.Locator("#twin-problems").InnerTextAsync();
        Assert.Contains("days: must be a number of days", alert);
        Assert.Contains("policies: 'shared' needs a tenant tree", alert);
        // What was sent is still there, and each problem links to its field.
        Assert.True(await page.GetByLabel("A generated workload").IsCheckedAsync());
        Assert.Equal("0.9", await page.GetByLabel("Load", new() { Exact = true }).InputValueAsync());
        Assert.Equal("philly", await page.GetByLabel("Fleet", new() { Exact = true }).InputValueAsync());
        Assert.Equal("true", await page.Locator("#twin-days").GetAttributeAsync("aria-invalid"));
        var targets = await page.Locator("#twin-problems a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href').slice(1))");
        Assert.Equal(["twin-days", "twin-policy-first"], targets.Order());
        foreach (var target in targets) Assert.Equal(1, await page.Locator("#" + target).CountAsync());

        // A start without the form's anti-forgery token (forged on another site, or stale) is refused and starts nothing.
        var before = (await Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).GetArrayLength();
        var forged = await context.APIRequest.PostAsync(Server.Url + "/twin/runs", new()
        {
            Form = BrowserChecks.FormOf(context, new() { ["fleet"] = "philly", ["policies"] = "fifo", ["source"] = "sample", ["trace"] = "philly-2017-10" }),
            MaxRedirects = 0,
        });
        Assert.Equal(400, forged.Status);
        Assert.Equal(before, (await Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).GetArrayLength());

        await using var viewer = await BrowserChecks.SignedInAsync(fixture.Browser, Server.Url, await Server.MintAsync("viewer", "a"));
        var look = await viewer.NewPageAsync();
        await look.GotoAsync(Server.Url + "/twin");
        Assert.Equal(0, await look.GetByRole(AriaRole.Button, new() { Name = "Start the run" }).CountAsync());
        Assert.Contains("viewer", await look.Locator("main").InnerTextAsync());
    }
}
