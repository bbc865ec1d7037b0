using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Dashboard.Tests;

/// <summary>
/// A real server for the browser (Kestrel on a free port, SQLite in a temporary file), set up as the
/// server tests' RunningServer is: two nodes of 8 GPUs, tenants a and b with 8 guaranteed each, and a
/// loop that runs cycles only when the test calls <see cref="Tick"/>.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    public const string AdminToken = "dashboard-test-admin-token";

    private readonly WebApplication _app;

    private DashboardServer(WebApplication app, string logDirectory)
    {
        _app = app;
        LogDirectory = logDirectory;
        Url = app.Urls.First();
        Admin = ClientWith(AdminToken);
    }

    /// <summary>The server's base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    /// <summary>Where the server reads jobs' logs.</summary>
    public string LogDirectory { get; }

    /// <summary>An API client holding the admin token.</summary>
    public HttpClient Admin { get; }

    public LiveScheduler Scheduler => _app.Services.GetRequiredService<LiveScheduler>();

    public static Fleet SmallFleet { get; } = new("test", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 10, 1.2)],
        [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);

    public static TenantTree Tree { get; } = new([
        new TenantSpec("a", null, new Dictionary<string, int> { ["G"] = 8 }, Grants: [new Grant("starter", 1_000_000, 0, 4_102_444_800)]),
        new TenantSpec("b", null, new Dictionary<string, int> { ["G"] = 8 })]);

    /// <summary>A new database file.</summary>
    public static string NewDatabase()
    {
        var root = Path.Combine(Path.GetTempPath(), "gpufleet-dashboard-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return Path.Combine(root, "dashboard.db");
    }

    /// <summary>Starts a server on <paramref name="database"/> (default: a new one); a <paramref name="standby"/> shares it with a leader and runs no cycle.</summary>
    public static async Task<DashboardServer> StartAsync(string? database = null, bool standby = false)
    {
        database ??= NewDatabase();
        var logs = Path.Combine(Path.GetDirectoryName(database)!, "logs");
        Directory.CreateDirectory(logs);
        var settings = new ServerSettings
        {
            Fleet = SmallFleet,
            Scheduling = new SchedulerOptions { Tenants = Tree, Policy = SchedulingPolicy.Shared },
            Database = database,
            AdminToken = AdminToken,
            LogDirectory = logs,
            // Only the test runs cycles, so that what a page shows is what the test set up.
            CycleInterval = TimeSpan.FromDays(30),
            // Twin runs choose from the repository's own fleets, trees and sample trace.
            Twin = new GpuFleet.Server.Twin.TwinSettings { Directory = GpuFleet.Tests.Shared.TestFiles.Root },
        };
        var app = ServerApp.Build(settings, configure: b => b.WebHost.UseUrls("http://127.0.0.1:0"));
        await app.StartAsync();
        var scheduler = app.Services.GetRequiredService<LiveScheduler>();
        for (var i = 0; i < 500 && scheduler.Cycles == 0 && !standby; i++) await Task.Delay(10);
        Assert.True(standby || scheduler.Cycles > 0, "the scheduling loop did not start");
        return new DashboardServer(app, logs);
    }

    public HttpClient ClientWith(string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Runs one scheduling cycle.</summary>
    public void Tick() => Scheduler.Tick();

    /// <summary>Mints a token of <paramref name="role"/> for <paramref name="tenant"/>.</summary>
    public async Task<string> MintAsync(string role, string? tenant)
    {
        using var r = await Admin.PostAsJsonAsync("/api/v1/tokens", new { role, tenant });
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>Submits a job through the API as the admin and returns its id.</summary>
    public async Task<long> SubmitAsync(string tenant, int gpus, string name, string topology = "site", string? command = null)
    {
        using var r = await Admin.PostAsJsonAsync("/api/v1/jobs", new { name, tenant, gpus, models = new[] { "G" }, timeLimitSeconds = 3600, topology, command });
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    /// <summary>The job's state as the API reads it from the store.</summary>
    public async Task<string> StateAsync(long id) =>
        (await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}")).GetProperty("state").GetString()!;

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
