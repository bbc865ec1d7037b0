using System.Net.Http.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Tests;

/// <summary>A real server (Kestrel on a free port, SQLite in a temporary file or a fresh PostgreSQL database) with a hand-moved clock.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningServer(WebApplication app, ManualClock clock, string db, CapturedErrors errors)
    {
        _app = app;
        Errors = errors;
        Clock = clock;
        Database = db;
        Client = ClientWith(AdminToken);
    }

    public const string AdminToken = "test-admin-token";

    /// <summary>The test servers' body limit (smaller than the default, so that tests reach it cheaply).</summary>
    public const int MaxRequestBodyBytes = 64 * 1024;

    /// <summary>A client holding the admin token.</summary>
    public HttpClient Client { get; }

    /// <summary>A client of the same server holding <paramref name="token"/> (none when null).</summary>
    public HttpClient ClientWith(string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Mints a token with the admin client.</summary>
    public async Task<string> MintAsync(string role, string? tenant)
    {
        using var r = await Client.PostAsJsonAsync("/api/v1/tokens", new { role, tenant });
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString()!;
    }
    public ManualClock Clock { get; }
    /// <summary>Error-level log entries the server wrote.</summary>
    public CapturedErrors Errors { get; }
    public string Database { get; }
    public LiveScheduler Scheduler => _app.Services.GetRequiredService<LiveScheduler>();
    public TraceReplayer Replayer => _app.Services.GetRequiredService<TraceReplayer>();

    /// <summary>Two nodes of 8 GPUs; tenants a and b with 8 guaranteed each.</summary>
    public static Fleet SmallFleet { get; } = new("test", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)],
        [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);

    /// <summary>
    /// SmallFleet's model, site and tenants, its site run by a <paramref name="kind"/> executor with
    /// <paramref name="settings"/>, looked at and inventoried every second, on <paramref name="pool"/>
    /// (default: SmallFleet's two nodes of 8 GPUs).
    /// </summary>
    public static Fleet SmallFleetRunBy(string kind, IReadOnlyDictionary<string, string>? settings = null, GpuPoolSpec? pool = null)
    {
        var all = new Dictionary<string, string> { ["pollSeconds"] = "1", ["inventorySeconds"] = "1" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) all[key] = value;
        return new Fleet(kind, SmallFleet.Models, [SmallFleet.Sites[0] with { Executor = new SiteExecutorSpec(kind, all) }], [pool ?? new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);
    }

    public static TenantTree Tree { get; } = new([
        new TenantSpec("a", null, new Dictionary<string, int> { ["G"] = 8 },
            Grants: [new Grant("starter", 1_000_000, 0, 4_102_444_800)]),
        new TenantSpec("b", null, new Dictionary<string, int> { ["G"] = 8 })]);

    /// <summary>A new, empty database of the given kind.</summary>
    public static string NewDatabase(Backend backend)
    {
        if (backend == Backend.Postgres) return GpuFleet.Tests.Shared.TestPostgres.NewDatabase();
        var path = Path.Combine(Path.GetTempPath(), "gpufleet-server-tests", Guid.NewGuid().ToString("N") + ".db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    public static async Task<RunningServer> StartAsync(Backend backend = Backend.Sqlite, string? database = null, int requestsPerMinute = 6_000,
        IReadOnlyList<GpuFleet.Core.Workloads.TraceJob>? replay = null, double timeScale = 1, bool standby = false, TenantTree? tenants = null,
        Func<ServerSettings, ServerSettings>? adjust = null, Action<IServiceCollection>? services = null)
    {
        var db = database ?? NewDatabase(backend);
        var clock = new ManualClock(DateTimeOffset.Parse("2026-11-25T00:00:00Z"));
        var settings = new ServerSettings
        {
            Fleet = SmallFleet,
            // Another tree (no guarantees) is scheduled by fair share.
            Scheduling = new SchedulerOptions { Tenants = tenants ?? Tree, Policy = tenants is null ? SchedulingPolicy.Shared : SchedulingPolicy.FairShare },
            Database = db, MaxRequestBodyBytes = MaxRequestBodyBytes,
            AdminToken = AdminToken, RequestsPerMinutePerToken = requestsPerMinute, Replay = replay, TimeScale = timeScale, ReplayGpuScale = 2,
            // Only the test runs cycles (Tick): the loop's own timer runs on real time, not on the hand-moved clock,
            // and a cycle of its own at a moment the test does not choose would race what the test checks.
            CycleInterval = TimeSpan.FromDays(30),
        };
        settings = adjust?.Invoke(settings) ?? settings;
        var errors = new CapturedErrors();
        var app = ServerApp.Build(settings, configure: b =>
        {
            b.WebHost.UseUrls("http://127.0.0.1:0");
            b.Logging.AddProvider(errors);
            b.Services.AddSingleton<TimeProvider>(clock);
            services?.Invoke(b.Services);
        });
        await app.StartAsync();
        // The loop's first cycle runs on its own thread; wait for it, so that from here on only the
        // test's Tick() (or moving the clock) runs cycles. A standby (another server leads) runs none.
        var scheduler = app.Services.GetRequiredService<LiveScheduler>();
        for (var i = 0; i < 500 && scheduler.Cycles == 0 && !standby; i++) await Task.Delay(10);
        Assert.True(standby || scheduler.Cycles > 0, "the scheduling loop did not start");
        return new RunningServer(app, clock, db, errors);
    }

    public async Task<System.Text.Json.JsonElement> PostJobAsync(object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
    }

    /// <summary>Posts <paramref name="json"/> as it is (with an <c>Idempotency-Key</c> when given) with <paramref name="client"/> (default: the admin's).</summary>
    public async Task<HttpResponseMessage> PostRawAsync(string path, string json, string? idempotencyKey = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await (client ?? Client).SendAsync(request);
    }

    /// <summary>
    /// Runs cycles until <paramref name="condition"/> holds (a site's link to its cluster works on its own
    /// time); fails after <paramref name="seconds"/>, saying <paramref name="what"/> and, when given, what <paramref name="explain"/> finds.
    /// </summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 60, Func<Task<string>>? explain = null)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            Scheduler.Tick();
            if (await condition()) return;
        }
        Assert.Fail($"not within {seconds} s: {what}{(explain is null ? "" : "; " + await explain())}");
    }

    public async Task<System.Text.Json.JsonElement> GetJobAsync(long id) =>
        await Client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/jobs/{id}");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
