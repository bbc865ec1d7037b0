using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;
using GpuFleet.Server.Hosting;
using GpuFleet.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace GpuFleet.Dashboard.Tests;

/// <summary>
/// The dashboard at national scale, in a real browser: the korea-2030 fleet (260,144 GPUs) with
/// 100,000 jobs submitted, most of them waiting, and the scheduling loop on the real clock. The pages
/// must show the fleet and the queue correctly and cleanly; how long the browser took to paint them,
/// and the scheduler's cycle time while 10 browsers watch, are written to
/// <c>TestResults/dashboard/national.json</c> and the test output as figures, never asserted (machines differ).
/// </summary>
[Trait("Category", "Browser")]
[Collection(RunsAlone.Name)]
public sealed class NationalFleetBrowserTests(BrowserFixture fixture, NationalFleetBrowserTests.NationalServer national, ITestOutputHelper output)
    : IClassFixture<BrowserFixture>, IClassFixture<NationalFleetBrowserTests.NationalServer>
{
    private const int Submitted = 100_000;

    [Fact]
    public async Task The_fleet_and_queue_pages_of_the_national_fleet_with_100000_jobs_paint_cleanly_and_the_scheduler_keeps_its_pace_while_10_browsers_watch()
    {
        var figures = new Dictionary<string, object> { ["gpus"] = 260_144, ["submitted"] = Submitted, ["pending"] = national.Scheduler.PendingCount };
        Assert.True(national.Scheduler.PendingCount > Submitted / 2, $"only {national.Scheduler.PendingCount} jobs wait");
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") problems.Add($"console: {m.Text}"); };
        page.RequestFailed += (_, r) => problems.Add($"failed: {r.Url}");
        page.Response += (_, r) => { if (r.Status >= 400) problems.Add($"{r.Status}: {r.Url}"); };
        await SignInAsync(page);
        foreach (var path in new[] { "/fleet", "/queue", "/queue?state=pending" })
        {
            // A fresh navigation each time; the style sheet and script are cached after the first page, as for a user.
            await page.GotoAsync(national.Url + path);
            // Paint entries are recorded once the frame is presented: wait for it (buffered observers see earlier ones).
            var paint = await page.EvaluateAsync<double>("""
                () => new Promise(resolve => {
                  const seen = performance.getEntriesByName('first-contentful-paint')[0];
                  if (seen) { resolve(seen.startTime); return; }
                  new PerformanceObserver(list => {
                    const p = list.getEntriesByName('first-contentful-paint')[0];
                    if (p) resolve(p.startTime);
                  }).observe({ type: 'paint', buffered: true });
                  setTimeout(() => resolve(-1), 5000);
                })
                """);
            var loaded = await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].loadEventEnd");
            figures[$"{path} firstContentfulPaintMs"] = Math.Round(paint, 1);
            figures[$"{path} loadMs"] = Math.Round(loaded, 1);
            Assert.True(paint > 0, $"{path}: the browser reported no first contentful paint");
            var axe = await page.RunAxe();
            Assert.Empty(axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => v.Id));
            await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.Screenshots, $"national{path.Replace('/', '-').Replace('?', '-').Replace('=', '-')}.png") });
        }
        // What the pages show is the national fleet and its queue.
        await page.GotoAsync(national.Url + "/fleet");
        Assert.Contains("260,144", await page.Locator("#fleet-live tfoot").InnerTextAsync());
        await page.GotoAsync(national.Url + "/queue?state=pending");
        Assert.Equal(50, await page.Locator("#queue-rows tbody tr[id^=job-]").CountAsync());
        Assert.Empty(problems);

        // The scheduler's cycles with no dashboard open, then with 10 browsers on the queue page refreshing every 5 s.
        await page.CloseAsync();
        figures["cyclesWithoutBrowsers"] = await CyclesAsync(TimeSpan.FromSeconds(15));
        var watchers = new List<IBrowserContext>();
        for (var i = 0; i < 10; i++)
        {
            var watcher = await fixture.Browser.NewContextAsync();
            watchers.Add(watcher);
            var watching = await watcher.NewPageAsync();
            await SignInAsync(watching);
            await watching.GotoAsync(national.Url + "/queue?state=pending");
        }
        figures["cyclesWith10Browsers"] = await CyclesAsync(TimeSpan.FromSeconds(15));
        foreach (var w in watchers) await w.DisposeAsync();

        var text = JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true });
        output.WriteLine(text);
        await File.WriteAllTextAsync(Path.Combine(fixture.Screenshots, "national.json"), text);
    }

    private async Task<object> CyclesAsync(TimeSpan length)
    {
        var (cycles, busy) = (national.Scheduler.Cycles, national.Scheduler.BusySeconds);
        await Task.Delay(length);
        var n = national.Scheduler.Cycles - cycles;
        Assert.True(n > 0, "the scheduler ran no cycle");
        return new { cycles = n, meanMs = Math.Round((national.Scheduler.BusySeconds - busy) * 1000 / n, 1) };
    }

    private async Task SignInAsync(IPage page)
    {
        await page.GotoAsync(national.Url + "/signin");
        await page.GetByLabel("API token").FillAsync(NationalServer.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await BrowserChecks.ReachesAsync(page, new Regex("/queue$"));
    }

    /// <summary>The korea-2030 fleet and tenants on SQLite, the loop on the real clock, with 100,000 jobs submitted in batches.</summary>
    public sealed class NationalServer : IAsyncLifetime
    {
        public const string AdminToken = "national-test-admin-token";
        private WebApplication? _app;
        private readonly string _database = TestFiles.Temp("national.db");

        public string Url { get; private set; } = "";
        public LiveScheduler Scheduler => _app!.Services.GetRequiredService<LiveScheduler>();

        public async Task InitializeAsync()
        {
            var fleet = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
            var tree = TenantFile.Load(TestFiles.Tenants("korea-2030.yaml"), fleet);
            _app = ServerApp.Build(new ServerSettings
            {
                Fleet = fleet, Scheduling = new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree }, Database = _database, AdminToken = AdminToken,
                RequestsPerMinutePerToken = int.MaxValue, RequestsPerMinutePerAddress = int.MaxValue,
            }, configure: b => b.WebHost.UseUrls("http://127.0.0.1:0"));
            await _app.StartAsync();
            Url = _app.Urls.First();
            using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
            var projects = tree.Leaves.Select(t => t.Name).ToArray();
            var rng = new Random(1);
            for (var done = 0; done < Submitted; done += 1000)
            {
                // 1 to 64 GPUs for an hour to a day: the fleet fills up and the rest wait.
                var batch = Enumerable.Range(0, 1000).Select(_ => new { tenant = projects[rng.Next(projects.Length)], gpus = 1 << rng.Next(7), timeLimitSeconds = 86_400 }).ToArray();
                using var r = await http.PostAsJsonAsync("/api/v1/jobs/batch", batch);
                Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
            }
            var watch = Stopwatch.StartNew();
            while (Scheduler.PendingCount + Scheduler.RunningCount < Submitted)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromMinutes(5), $"the scheduler took in {Scheduler.PendingCount + Scheduler.RunningCount} of {Submitted} jobs in 5 minutes");
                await Task.Delay(200);
            }
        }

        public async Task DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }
    }
}
