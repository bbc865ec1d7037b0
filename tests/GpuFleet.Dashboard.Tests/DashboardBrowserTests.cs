using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace GpuFleet.Dashboard.Tests;

/// <summary>The dashboard in a real browser: pages, accessibility, the queue and cancelling, and who may see and do what.</summary>
[Trait("Category", "Browser")]
public sealed class DashboardBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static readonly (int Width, int Height)[] Viewports = BrowserChecks.Viewports;

    private DashboardServer Server => fixture.Server;

    [Fact]
    public async Task EveryPageLoadsCleanlyPassesAxeAndIsPhotographedAtBothWidths()
    {
        var waiting = await Server.SubmitAsync("a", 8, "waits <script>alert(1)</script>");
        Server.Tick();
        foreach (var (width, height) in Viewports)
        {
            await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height } });
            var page = await context.NewPageAsync();
            var problems = Watch(page);
            await page.GotoAsync(Server.Url + "/signin");
            await CheckAsync(page, problems, $"signin-{width}x{height}");
            await SignInOnAsync(page, DashboardServer.AdminToken);
            foreach (var (path, name) in new[] { ("/fleet", "fleet"), ("/queue", "queue"), ($"/jobs/{fixture.FleetFiller}", "job-running"), ($"/jobs/{waiting}", "job-pending"), ("/tenants", "tenants"), ("/tenants/grant?tenant=a&grant=starter", "grant"), ("/fleet/pool?site=s&model=G", "pool"), ("/services", "services-none") })
            {
                var response = await page.GotoAsync(Server.Url + path);
                Assert.Equal(200, response!.Status);
                await CheckAsync(page, problems, $"{name}-{width}x{height}");
            }
        }
        // A name that looks like markup is shown as text.
        await using var admin = await SignedInAsync(DashboardServer.AdminToken);
        var adminCsv = await (await admin.APIRequest.GetAsync(Server.Url + "/tenants/usage.csv")).TextAsync();
        Assert.Contains("\na,a,G,s,", adminCsv, StringComparison.Ordinal);
        var queue = await admin.NewPageAsync();
        await queue.GotoAsync(Server.Url + "/queue");
        Assert.Contains("waits <script>alert(1)</script>", await queue.Locator($"#job-{waiting}").InnerTextAsync());
        Assert.Equal(0, await queue.Locator($"#job-{waiting} script").CountAsync());
    }

    [Fact]
    public async Task AJobSubmittedThroughTheApiShowsOnTheQueueWithItsReasonAndIsCancelledFromThePage()
    {
        var member = await Server.MintAsync("member", "a");
        var id = await Server.SubmitAsync("a", 8, "queued-then-cancelled");
        Server.Tick();
        await using var context = await SignedInAsync(member);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.Url + "/queue?state=pending");
        var row = page.Locator($"#job-{id}");
        Assert.Equal("pending", await row.GetAttributeAsync("data-state"));
        var text = await row.InnerTextAsync();
        Assert.DoesNotContain("known only", text);
        Assert.DoesNotContain("just submitted", text);
        // The reason is the scheduler's own words for this job.
        var why = await Server.Scheduler.ExplainAsync(id);
        Assert.NotNull(why);
        Assert.Contains(why.Message.Split(" t=")[0], text);
        Assert.DoesNotContain("t=", text);
        // The page refreshes its rows on its own: a job submitted after it loaded appears without a reload.
        var later = await Server.SubmitAsync("a", 8, "appears-by-polling");
        Server.Tick();
        await Assertions.Expect(page.Locator($"#job-{later}")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await row.GetByRole(AriaRole.Button, new() { Name = $"Cancel job {id}" }).ClickAsync();
        await BrowserChecks.ReachesAsync(page, new Regex($"cancelled={id}\\b"));
        Assert.Equal("cancelled", await Server.StateAsync(id));
        Assert.Contains($"Job {id} cancelled.", await page.Locator("main").InnerTextAsync());
        // Audited with its change, as a cancel through the API is: who, what, which job.
        var audit = await Server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=100");
        var entry = audit.EnumerateArray().Single(e => e.GetProperty("path").GetString() == $"/queue/cancel?id={id}");
        Assert.Equal("POST", entry.GetProperty("method").GetString());
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal("a", entry.GetProperty("tenant").GetString());
        Assert.NotEqual(JsonValueKind.Null, entry.GetProperty("tokenId").ValueKind);
        Assert.Equal(0, await page.Locator($"#job-{id}").CountAsync());
        Assert.Contains("state=pending", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheQueuePagesByIdAndFilters()
    {
        using var batch = await Server.Admin.PostAsJsonAsync("/api/v1/jobs/batch",
            Enumerable.Range(0, 55).Select(i => new { name = $"paged-{i}", tenant = "a", gpus = 1, models = new[] { "G" }, timeLimitSeconds = 600 }));
        Assert.Equal(System.Net.HttpStatusCode.Created, batch.StatusCode);
        var mine = (await batch.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(j => j.GetProperty("id").GetInt64()).ToHashSet();
        Server.Tick();
        await using var context = await SignedInAsync(DashboardServer.AdminToken);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.Url + "/queue?state=pending&tenant=a");
        var seen = new List<long>();
        for (var pages = 0; pages < 10; pages++)
        {
            var ids = await IdsAsync(page);
            Assert.True(ids.Count <= 50, $"{ids.Count} rows on one page");
            Assert.Equal(ids.Order(), ids);
            Assert.All(ids, id => Assert.True(seen.Count == 0 || id > seen[^1], "a page starts after the one before"));
            seen.AddRange(ids);
            var next = page.Locator("a[rel=next]");
            if (await next.CountAsync() == 0) break;
            Assert.Equal(50, ids.Count);
            await next.ClickAsync();
            await page.WaitForLoadStateAsync();
        }
        Assert.Superset(mine, seen.ToHashSet());
        Assert.DoesNotContain(fixture.FleetFiller, seen);
        // Filters: the running filler shows under its site and model; an unknown value is a 400 that names it.
        await page.GotoAsync(Server.Url + "/queue?state=running&site=s&model=G&class=normal");
        Assert.Contains(fixture.FleetFiller, await IdsAsync(page));
        foreach (var (query, field) in new[] { ("site=nowhere", "site"), ("model=X", "model"), ("class=gold", "class"), ("state=done", "state"), ("after=-1", "after"), ("tenant=zz", "tenant") })
        {
            var response = await page.GotoAsync($"{Server.Url}/queue?{query}");
            Assert.Equal(400, response!.Status);
            Assert.Contains(field + ":", await page.Locator("main").InnerTextAsync());
        }
    }

    [Fact]
    public async Task AJobTheSchedulerHasNotSeenYetSaysSo()
    {
        var id = await Server.SubmitAsync("a", 8, "not-seen-yet");
        await using var context = await SignedInAsync(DashboardServer.AdminToken);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{Server.Url}/queue?state=pending&after={id - 1}");
        Assert.Contains("just submitted", await page.Locator($"#job-{id}").InnerTextAsync());
        Server.Tick();
        await page.GotoAsync($"{Server.Url}/jobs/{id}");
        Assert.DoesNotContain("just submitted", await page.Locator("main").InnerTextAsync());
    }

    [Fact]
    public async Task AnAdminCancelsEveryMatchingJobAndOnlyAnAdminMay()
    {
        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add(await Server.SubmitAsync("a", 8, $"bulk-{i}"));
        Server.Tick();
        var member = await Server.MintAsync("member", "a");
        await using (var memberContext = await SignedInAsync(member))
        {
            var memberPage = await memberContext.NewPageAsync();
            await memberPage.GotoAsync(Server.Url + "/queue");
            Assert.Equal(0, await memberPage.GetByRole(AriaRole.Button, new() { Name = "Cancel all matching jobs" }).CountAsync());
            Assert.Equal(403, await PostFormAsync(memberPage, "/queue/cancel-all", new() { ["tenant"] = "a", ["state"] = "pending" }));
            Assert.Equal("pending", await Server.StateAsync(ids[0]));
        }
        await using var context = await SignedInAsync(DashboardServer.AdminToken);
        var page = await context.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GotoAsync(Server.Url + "/queue?tenant=a&state=pending");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel all matching jobs" }).ClickAsync();
        await BrowserChecks.ReachesAsync(page, new Regex("cancelledAll="));
        foreach (var id in ids) Assert.Equal("cancelled", await Server.StateAsync(id));
        // Only what matched: the running job stays.
        Assert.Equal("running", await Server.StateAsync(fixture.FleetFiller));
        Assert.Equal(0, await page.Locator("#queue-rows tbody tr[id^=job-]").CountAsync());
    }

    [Fact]
    public async Task TheKeyboardAloneSignsInAndCancels()
    {
        var id = await Server.SubmitAsync("a", 8, "keyboard");
        Server.Tick();
        var member = await Server.MintAsync("member", "a");
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.Url + "/signin");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("token", await page.EvaluateAsync<string>("document.activeElement.id"));
        await page.Keyboard.TypeAsync(member);
        await page.Keyboard.PressAsync("Enter");
        await BrowserChecks.ReachesAsync(page, new Regex("/queue$"));
        await page.GetByRole(AriaRole.Button, new() { Name = $"Cancel job {id}" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await BrowserChecks.ReachesAsync(page, new Regex($"cancelled={id}\\b"));
        Assert.Equal("cancelled", await Server.StateAsync(id));
    }

    private static async Task<List<long>> IdsAsync(IPage page) =>
        [.. (await page.Locator("#queue-rows tbody tr[id^=job-]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.id)")).Select(id => long.Parse(id[4..], System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public async Task ATenantSeesOnlyItsOwnJobsOnEveryPageAndByUrl()
    {
        var aJob = await Server.SubmitAsync("a", 8, "secret-of-a");
        Server.Tick();
        var b = await Server.MintAsync("member", "b");
        await using var context = await SignedInAsync(b);
        var page = await context.NewPageAsync();
        foreach (var path in new[] { "/queue", "/queue?state=running", "/fleet", "/tenants" })
        {
            await page.GotoAsync(Server.Url + path);
            var text = await page.Locator("main").InnerTextAsync();
            Assert.DoesNotContain("secret-of-a", text);
            Assert.DoesNotContain("filler", text);
        }
        Assert.Equal(0, await page.Locator($"#job-{aJob}, #job-{fixture.FleetFiller}").CountAsync());
        var rows = await page.GotoAsync(Server.Url + "/queue/rows");
        Assert.DoesNotContain("secret-of-a", await rows!.TextAsync());
        // Another tenant's job answers 404, as the API does; asking for its tenant's queue is refused.
        Assert.Equal(404, (await page.GotoAsync($"{Server.Url}/jobs/{aJob}"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"{Server.Url}/jobs/{fixture.FleetFiller}"))!.Status);
        Assert.Equal(400, (await page.GotoAsync($"{Server.Url}/queue?tenant=a"))!.Status);
        Assert.Equal(400, (await page.GotoAsync($"{Server.Url}/jobs/x1"))!.Status);
        // The tenants page shows b's node and not a's.
        await page.GotoAsync(Server.Url + "/tenants");
        Assert.Equal(0, await page.Locator("th[scope=row]", new() { HasTextString = "a" }).Filter(new() { HasTextRegex = new("^a") }).CountAsync());
        // Nor a's grant, on the page's live part or by its burn-down's URL.
        Assert.DoesNotContain("starter", await (await page.GotoAsync(Server.Url + "/tenants/live"))!.TextAsync());
        Assert.Equal(404, (await page.GotoAsync($"{Server.Url}/tenants/grant?tenant=a&grant=starter"))!.Status);
        // The usage CSV is the API's report for b's token: b's rows only.
        var csv = await context.APIRequest.GetAsync(Server.Url + "/tenants/usage.csv");
        Assert.Equal(200, csv.Status);
        var usage = await csv.TextAsync();
        Assert.StartsWith("tenant,owner,model,site,gpuHours", usage, StringComparison.Ordinal);
        Assert.DoesNotContain("\na,", usage, StringComparison.Ordinal);
        // Cancelling a's job with b's session (a valid form token, a forged id) is a 404 and changes nothing.
        var status = await PostFormAsync(page, "/queue/cancel", new() { ["id"] = aJob.ToString() });
        Assert.Equal(404, status);
        Assert.Equal("pending", await Server.StateAsync(aJob));
    }

    [Fact]
    public async Task TheServicesPageShowsReplicasAgainstTheRateTheyServeAndEachServiceOnlyToItsTenant()
    {
        using (var created = await Server.Admin.PostAsJsonAsync("/api/v1/services", new
        {
            name = "chat-a", tenant = "a", minReplicas = 1, maxReplicas = 4, requestsPerSecondPerReplica = 100, targetUtilization = 0.5,
        }))
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        try
        {
            using (var load = await Server.Admin.PostAsJsonAsync("/api/v1/services/chat-a/load", new { requestsPerSecond = 150 })) load.EnsureSuccessStatusCode();
            Server.Tick();
            await using var admin = await SignedInAsync(DashboardServer.AdminToken);
            var page = await admin.NewPageAsync();
            var problems = Watch(page);
            Assert.Equal(200, (await page.GotoAsync(Server.Url + "/services"))!.Status);
            // 150 / (100 × 0.5) = 3 wanted; a's filler holds every GPU, and a replica does not preempt its own tenant's
            // normal work: none runs, three wait, and the row says the service is short.
            var row = page.Locator("#service-chat-a");
            var text = await row.InnerTextAsync();
            Assert.Contains("0 of 3 wanted", text);
            Assert.Contains("(min 1, max 4)", text);
            Assert.Contains("3 waiting since", text);
            Assert.Contains("150.0 requests/s", text);
            Assert.Contains("wanted 3: 3 submitted, 0 ended", text);
            Assert.Equal("true", await row.GetAttributeAsync("data-short"));
            await CheckAsync(page, problems, "services");
            // The table refreshes itself from its fragment.
            await Assertions.Expect(page.Locator("[data-stamp-for=services-live]")).ToContainTextAsync("Updated", new() { Timeout = 20_000 });
            Assert.Equal(1, await page.Locator("#services-live #service-chat-a").CountAsync());

            // Tenant b sees no service of a's: not on the page, not in its fragment.
            await using var other = await SignedInAsync(await Server.MintAsync("member", "b"));
            var theirs = await other.NewPageAsync();
            await theirs.GotoAsync(Server.Url + "/services");
            Assert.Equal(0, await theirs.Locator("#service-chat-a").CountAsync());
            Assert.Contains("No services", await theirs.Locator("main").InnerTextAsync());
            Assert.DoesNotContain("chat-a", await (await theirs.GotoAsync(Server.Url + "/services/live"))!.TextAsync());
        }
        finally
        {
            // Its waiting replicas go with it, so that the other tests' queue is as they expect.
            using var deleted = await Server.Admin.DeleteAsync("/api/v1/services/chat-a");
            Server.Tick();
        }
    }

    [Fact]
    public async Task TheFleetAndTenantsPagesRefreshThemselvesAndShowPoolsModelsAndABurnDown()
    {
        await using var context = await SignedInAsync(DashboardServer.AdminToken);
        var page = await context.NewPageAsync();
        var problems = Watch(page);
        foreach (var (path, region) in new[] { ("/fleet", "fleet-live"), ("/tenants", "tenants-live") })
        {
            await page.GotoAsync(Server.Url + path);
            // The script replaces the region from its fragment every 5 s and says so.
            await Assertions.Expect(page.Locator($"[data-stamp-for={region}]")).ToContainTextAsync("Updated", new() { Timeout = 20_000 });
            Assert.Equal(1, await page.Locator($"#{region} table").First.CountAsync());
        }
        // Pools per site, and the tenants' per-model rows and fair-share standing.
        await page.GotoAsync(Server.Url + "/fleet");
        Assert.Contains("s · G", await page.Locator("main").InnerTextAsync());
        await page.GotoAsync(Server.Url + "/tenants");
        Assert.Contains("of", await page.Locator("#tenants-live td[data-label='Fair share']").First.InnerTextAsync());
        // The usage CSV for a chosen period, from the form; a day that is not one is refused by name.
        await page.GotoAsync(Server.Url + "/tenants");
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await page.GetByLabel("From (UTC)").FillAsync("2020-01-01");
        await page.GetByLabel("To, included").FillAsync(today);
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download the usage CSV" }).ClickAsync());
        Assert.Equal($"gpufleet-usage-2020-01-01-{today}.csv", download.SuggestedFilename);
        Assert.StartsWith("tenant,owner,model,site,gpuHours", await File.ReadAllTextAsync((await download.PathAsync())!));
        // A navigation that turns into a download is reported as an aborted request: that one is expected.
        problems.Items.RemoveAll(p => p.StartsWith($"failed: {Server.Url}/tenants/usage.csv?", StringComparison.Ordinal));
        var badDay = await context.APIRequest.GetAsync(Server.Url + "/tenants/usage.csv?from=2026-13-01");
        Assert.Equal(400, badDay.Status);
        Assert.Contains("from: must be a day as yyyy-MM-dd", await badDay.TextAsync());
        Assert.Equal(400, (await context.APIRequest.GetAsync(Server.Url + "/tenants/usage.csv?from=2026-02-01&to=2026-01-01")).Status);
        // A running job's page: the energy charged, no preemptions, and its submission as a job file.
        await page.GotoAsync($"{Server.Url}/jobs/{fixture.FleetFiller}");
        var main = await page.Locator("main").InnerTextAsync();
        Assert.Contains("kWh", main);
        Assert.Contains("Never preempted.", main);
        Assert.Contains("tenant: a", await page.GetByLabel("Job file").InnerTextAsync());
        // A pool zoomed in: one cell per NVLink domain, the filler's busy GPUs counted.
        await page.GotoAsync(Server.Url + "/fleet");
        await page.GetByRole(AriaRole.Link, new() { Name = "s · G" }).ClickAsync();
        Assert.Equal(2, await page.Locator(".grid .cell").CountAsync());
        Assert.Contains("GPUs busy", await page.Locator("table.legend caption").InnerTextAsync());
        Assert.Empty(problems.Items);
        Assert.Equal(400, (await page.GotoAsync($"{Server.Url}/fleet/pool?site=nowhere&model=G"))!.Status);
        Assert.Equal(400, (await page.GotoAsync($"{Server.Url}/fleet/pool?site=s&model=<b>"))!.Status);
        // The grant's burn-down: a chart with its words, and its figures.
        await page.GotoAsync(Server.Url + "/tenants/grant?tenant=a&grant=starter");
        var chart = page.Locator("svg.chart");
        Assert.Contains("GPU-hours left of 1,000,000.0", await chart.GetAttributeAsync("aria-label"));
        Assert.Equal(1, await page.Locator("svg.chart polyline").CountAsync());
        // Signed out, the fragments answer 401 (the script then goes to the sign-in form); an unknown grant is a 404 page.
        Assert.Equal(401, (await (await fixture.Browser.NewContextAsync()).APIRequest.GetAsync(Server.Url + "/fleet/live")).Status);
        Assert.Equal(404, (await page.GotoAsync($"{Server.Url}/tenants/grant?tenant=a&grant=nope"))!.Status);
    }

    [Fact]
    public async Task AViewerCannotCancel()
    {
        var id = await Server.SubmitAsync("a", 8, "viewer-looks");
        Server.Tick();
        var viewer = await Server.MintAsync("viewer", "a");
        await using var context = await SignedInAsync(viewer);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.Url + "/queue");
        Assert.Equal(1, await page.Locator($"#job-{id}").CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Cancel job" }).CountAsync());
        Assert.Equal(403, await PostFormAsync(page, "/queue/cancel", new() { ["id"] = id.ToString() }));
        Assert.Equal("pending", await Server.StateAsync(id));
    }

    [Fact]
    public async Task ACancelWithoutAValidAntiforgeryTokenIsRefused()
    {
        var id = await Server.SubmitAsync("a", 8, "forgery-target");
        Server.Tick();
        var member = await Server.MintAsync("member", "a");
        await using var context = await SignedInAsync(member);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.Url + "/queue");
        // The session cookie goes with the request (same site), but no form token: refused.
        var none = await context.APIRequest.PostAsync(Server.Url + "/queue/cancel", new() { Form = FormOf(context, new() { ["id"] = id.ToString() }) });
        Assert.Equal(400, none.Status);
        var wrong = await context.APIRequest.PostAsync(Server.Url + "/queue/cancel",
            new() { Form = FormOf(context, new() { ["id"] = id.ToString(), ["__RequestVerificationToken"] = "CfDJ8forged" }) });
        Assert.Equal(400, wrong.Status);
        var json = await context.APIRequest.PostAsync(Server.Url + "/queue/cancel", new() { DataObject = new { id } });
        Assert.Equal(400, json.Status);
        Assert.Equal("pending", await Server.StateAsync(id));
        // A token of this browser that is not this session's — the signed-out sign-in form's — is refused too.
        var signInForm = await context.NewPageAsync();
        await signInForm.GotoAsync(Server.Url + "/signin");
        var anonymous = await signInForm.Locator("input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var unbound = await context.APIRequest.PostAsync(Server.Url + "/queue/cancel",
            new() { Form = FormOf(context, new() { ["id"] = id.ToString(), ["__RequestVerificationToken"] = anonymous! }), MaxRedirects = 0 });
        Assert.Equal(400, unbound.Status);
        Assert.Equal("pending", await Server.StateAsync(id));
        // Signing out needs one too.
        var signOut = await context.APIRequest.PostAsync(Server.Url + "/signout", new() { Form = FormOf(context, []) });
        Assert.Equal(400, signOut.Status);
        // A bad id with a valid token is a 400 naming it.
        Assert.Equal(400, await PostFormAsync(page, "/queue/cancel", new() { ["id"] = "12; DROP" }));
    }

    [Fact]
    public async Task SigningInKeepsTheTokenInAStrictHttpOnlyCookieAndNeverInAUrl()
    {
        await using var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var urls = new List<string>();
        page.Request += (_, r) => urls.Add(r.Url);
        await page.GotoAsync(Server.Url + "/queue");
        Assert.EndsWith("/signin", page.Url, StringComparison.Ordinal);
        await page.GetByLabel("API token").FillAsync("not-a-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        Assert.Contains("not valid", await page.Locator("main").InnerTextAsync());
        await SignInOnAsync(page, DashboardServer.AdminToken);
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "gpufleet_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(urls, u => u.Contains(DashboardServer.AdminToken, StringComparison.Ordinal));
        var other = await context.NewPageAsync();
        await other.GotoAsync(Server.Url + "/queue");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await BrowserChecks.ReachesAsync(page, new Regex("/signin$"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "gpufleet_session");
        // A queue left open in another tab finds the session gone at its next refresh and goes to the sign-in form.
        await BrowserChecks.ReachesAsync(other, new Regex("/signin$"), 15_000);
    }

    private Task<IBrowserContext> SignedInAsync(string token) => BrowserChecks.SignedInAsync(fixture.Browser, Server.Url, token);

    private static Task SignInOnAsync(IPage page, string token) => BrowserChecks.SignInOnAsync(page, token);

    // Posts a form from the page's session with the anti-forgery token its sign-out form carries; the status answered.
    private async Task<int> PostFormAsync(IPage page, string path, Dictionary<string, string> fields)
    {
        await page.GotoAsync(Server.Url + "/queue");
        var token = await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        fields["__RequestVerificationToken"] = token!;
        var response = await page.Context.APIRequest.PostAsync(Server.Url + path, new() { Form = FormOf(page.Context, fields), MaxRedirects = 0 });
        return response.Status;
    }

    private static IFormData FormOf(IBrowserContext context, Dictionary<string, string> fields) => BrowserChecks.FormOf(context, fields);

    private static BrowserChecks.PageProblems Watch(IPage page) => BrowserChecks.Watch(page);

    private Task CheckAsync(IPage page, BrowserChecks.PageProblems problems, string name) => BrowserChecks.CheckAsync(page, problems, name, fixture.Screenshots);
}
