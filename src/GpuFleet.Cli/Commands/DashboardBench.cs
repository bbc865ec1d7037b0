using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;
using GpuFleet.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// <c>gpufleet bench dashboard</c>: the dashboard on a national fleet with a long queue. An in-process
/// server (SQLite, the scheduling loop on the real clock) gets <c>--pending</c> jobs; then each page is
/// loaded by a signed-in client, first once (cold) and then <c>--loads</c> times, and the scheduler's mean
/// cycle time is measured with no dashboard open and with <c>--browsers</c> clients refreshing what an
/// open page refreshes (every 5 s: the queue's rows, the fleet's and the tenants' live parts), side by side.
/// <para>The pages are rendered on the server and need no script to show, so the time to the whole
/// HTML answer is what a browser waits for before its first paint (the style sheet and script are
/// fetched once and cached).</para>
/// </summary>
internal static partial class DashboardBench
{
    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", DefaultValueFactory = _ => "fleets/korea-2030.yaml" };
        var tenants = new Option<string>("--tenants") { Description = "Tenant tree YAML.", DefaultValueFactory = _ => "tenants/korea-2030.yaml" };
        var pending = new Option<int>("--pending") { Description = "Jobs submitted before measuring (most of them wait).", DefaultValueFactory = _ => 100_000 };
        var loads = new Option<int>("--loads") { Description = "Measured loads of each page after its first.", DefaultValueFactory = _ => 20 };
        var browsers = new Option<int>("--browsers") { Description = "Open dashboards refreshing while the cycle time is measured.", DefaultValueFactory = _ => 10 };
        var seconds = new Option<double>("--seconds") { Description = "How long the cycle time is measured, without and then with the browsers.", DefaultValueFactory = _ => 20 };
        var json = new Option<string?>("--json") { Description = "Write results as JSON." };
        var command = new Command("dashboard", "Dashboard page times on a national fleet with a long queue, and the scheduler's cycle time with browsers watching.")
        {
            fleet, tenants, pending, loads, browsers, seconds, json,
        };
        command.SetAction(r => CliRunner.Guard(() => Run(r.GetValue(fleet)!, r.GetValue(tenants)!, r.GetValue(pending), r.GetValue(loads), r.GetValue(browsers),
            r.GetValue(seconds), r.GetValue(json))));
        return command;
    }

    private static int Run(string fleetPath, string tenantsPath, int pending, int loads, int browsers, double seconds, string? json)
    {
        if (pending < 1) throw new CliUsageException("--pending must be at least 1");
        if (loads < 1) throw new CliUsageException("--loads must be at least 1");
        if (browsers < 1) throw new CliUsageException("--browsers must be at least 1");
        if (!(seconds > 0)) throw new CliUsageException("--seconds must be positive");
        var fleet = FleetFile.Load(fleetPath);
        var tree = TenantFile.Load(tenantsPath, fleet);
        const string token = "bench-admin";
        var database = Path.Combine(Path.GetTempPath(), $"gpufleet-bench-dashboard-{Guid.NewGuid():N}.db");
        var app = ServerApp.Build(new ServerSettings
        {
            Fleet = fleet, Scheduling = new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree }, Database = database, AdminToken = token,
            RequestsPerMinutePerToken = int.MaxValue, RequestsPerMinutePerAddress = int.MaxValue,
        }, ["--urls", "http://127.0.0.1:0"], b => b.Logging.ClearProviders());
        app.StartAsync().GetAwaiter().GetResult();
        try
        {
            var url = new Uri(app.Urls.First());
            var scheduler = app.Services.GetRequiredService<LiveScheduler>();
            var report = new JsonObject { ["gpus"] = fleet.TotalGpus, ["submitted"] = pending };
            var ids = SubmitAsync(url, token, tree.Leaves.Select(t => t.Name).ToArray(), pending).GetAwaiter().GetResult();
            // The scheduler takes its inbox in slices: wait until it holds every job (none ends within the hour).
            var until = DateTime.UtcNow.AddMinutes(5);
            while (scheduler.PendingCount + scheduler.RunningCount < ids.Length)
            {
                if (DateTime.UtcNow > until) throw new InvalidOperationException($"the scheduler took in {scheduler.PendingCount + scheduler.RunningCount} of {ids.Length} jobs in 5 minutes");
                Thread.Sleep(200);
            }
            report["pendingAtStart"] = scheduler.PendingCount;
            report["runningAtStart"] = scheduler.RunningCount;

            using var client = SignedInClient(url, token).GetAwaiter().GetResult();
            var firstPending = ids[ids.Length / 2];
            var grant = tree.Leaves.SelectMany(t => (t.Grants ?? []).Select(g => (Tenant: t.Name, Grant: g.Name))).FirstOrDefault();
            var pages = new List<string> { "/fleet", "/tenants", "/queue", "/queue?state=pending", $"/queue?state=pending&after={firstPending}", $"/jobs/{firstPending}", "/queue/rows?state=pending", "/fleet/live", "/tenants/live" };
            // The largest pool zoomed in: one cell per NVLink domain.
            var largest = Enumerable.Range(0, fleet.PoolCount).MaxBy(fleet.PoolGpus);
            pages.Add($"/fleet/pool?site={fleet.Sites[fleet.PoolSite(largest)].Name}&model={fleet.Models[fleet.PoolModel(largest)].Name}");
            if (grant.Tenant is not null) pages.Add($"/tenants/grant?tenant={grant.Tenant}&grant={grant.Grant}");
            var pageTimes = new JsonObject();
            foreach (var path in pages) pageTimes[path] = TimePage(client, path, loads).GetAwaiter().GetResult();
            report["pages"] = pageTimes;

            var quiet = CycleTime(scheduler, seconds, () => Task.CompletedTask);
            var watched = CycleTime(scheduler, seconds, () => WatchAsync(url, token, browsers, TimeSpan.FromSeconds(seconds)));
            report["cycleMsWithoutBrowsers"] = quiet;
            report["cycleMsWithBrowsers"] = watched;
            report["browsers"] = browsers;
            var q = quiet["meanMs"]!.GetValue<double>();
            if (q > 0) report["cycleRatioWithBrowsers"] = Math.Round(watched["meanMs"]!.GetValue<double>() / q, 2);
            var text = report.ToJsonString(SimulateCommand.Json);
            Console.WriteLine(text);
            if (json is not null) SimulateCommand.WriteFile(json, text + "\n");
            return 0;
        }
        finally
        {
            app.StopAsync().GetAwaiter().GetResult();
            foreach (var f in new[] { database, database + "-wal", database + "-shm" }) File.Delete(f);
        }
    }

    // Batches of 1,000 random jobs (1 to 64 GPUs, an hour to a day): a national fleet fills up and the rest wait.
    private static async Task<long[]> SubmitAsync(Uri url, string token, string[] projects, int count)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var rng = new Random(1);
        var ids = new List<long>(count);
        for (var done = 0; done < count; done += 1000)
        {
            var batch = Enumerable.Range(0, Math.Min(1000, count - done)).Select(_ => new
            {
                tenant = projects[rng.Next(projects.Length)], gpus = 1 << rng.Next(7), timeLimitSeconds = 86_400, runtimeSeconds = 3600 + rng.Next(82_800),
            }).ToArray();
            using var response = await http.PostAsJsonAsync("/api/v1/jobs/batch", batch);
            if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"batch submission: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var answer = await response.Content.ReadFromJsonAsync<JsonArray>();
            ids.AddRange(answer!.Select(j => j!["id"]!.GetValue<long>()));
        }
        return [.. ids];
    }

    private static async Task<HttpClient> SignedInClient(Uri url, string token)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = url };
        var form = await http.GetStringAsync("/signin");
        var antiforgery = AntiforgeryField().Match(form);
        if (!antiforgery.Success) throw new InvalidOperationException("the sign-in form has no anti-forgery token");
        using var signIn = await http.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token, ["__RequestVerificationToken"] = antiforgery.Groups[1].Value,
        }));
        if (signIn.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"sign-in: {(int)signIn.StatusCode}");
        return http;
    }

    private static async Task<JsonObject> TimePage(HttpClient client, string path, int loads)
    {
        async Task<(double Ms, long Bytes)> Load()
        {
            var watch = Stopwatch.StartNew();
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{path}: {(int)response.StatusCode}");
            return (watch.Elapsed.TotalMilliseconds, body.Length);
        }
        var first = await Load();
        var times = new double[loads];
        for (var i = 0; i < loads; i++) times[i] = (await Load()).Ms;
        Array.Sort(times);
        return new JsonObject
        {
            ["firstMs"] = Math.Round(first.Ms, 1), ["medianMs"] = Math.Round(times[loads / 2], 1),
            ["p95Ms"] = Math.Round(times[Math.Min(loads - 1, (int)Math.Ceiling(loads * 0.95) - 1)], 1), ["bytes"] = first.Bytes,
        };
    }

    // The scheduler's own cycles during the window: how many, and their mean and longest time.
    private static JsonObject CycleTime(LiveScheduler scheduler, double seconds, Func<Task> alongside)
    {
        var (cycles, busy) = (scheduler.Cycles, scheduler.BusySeconds);
        var longest = 0.0;
        var load = alongside();
        var end = DateTime.UtcNow.AddSeconds(seconds);
        var lastCycle = scheduler.Cycles;
        while (DateTime.UtcNow < end)
        {
            Thread.Sleep(50);
            if (scheduler.Cycles != lastCycle) (lastCycle, longest) = (scheduler.Cycles, Math.Max(longest, scheduler.LastCycleMs));
        }
        load.GetAwaiter().GetResult();
        var n = scheduler.Cycles - cycles;
        return new JsonObject
        {
            ["cycles"] = n, ["meanMs"] = n == 0 ? 0 : Math.Round((scheduler.BusySeconds - busy) * 1000 / n, 1), ["longestMs"] = Math.Round(longest, 1),
        };
    }

    // Each browser signs in and, every 5 s as the page's script does, refreshes an open queue, fleet and tenants page.
    private static async Task WatchAsync(Uri url, string token, int browsers, TimeSpan length)
    {
        var end = DateTime.UtcNow + length;
        await Task.WhenAll(Enumerable.Range(0, browsers).Select(async b =>
        {
            using var client = await SignedInClient(url, token);
            await Task.Delay(TimeSpan.FromMilliseconds(5000.0 * b / browsers));   // the browsers' refreshes spread over the 5 s
            while (DateTime.UtcNow < end)
            {
                foreach (var path in new[] { "/queue/rows?state=pending", "/fleet/live", "/tenants/live" })
                    using (var response = await client.GetAsync(path)) await response.Content.ReadAsByteArrayAsync();
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
        }));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
