using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

[Trait("Category", "Server")]
public abstract class UsageTests(Backend backend)
{
    [Fact]
    public async Task Usage_charges_GPU_hours_energy_and_cost_per_tenant_model_and_site_once()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var start = server.Clock.GetUtcNow();
        await server.PostJobAsync(new { tenant = "a", gpus = 4, timeLimitSeconds = 7200, runtimeSeconds = 3600 });
        server.Scheduler.Tick();
        server.Clock.Advance(TimeSpan.FromSeconds(3600));
        server.Scheduler.Tick();
        var to = Uri.EscapeDataString(server.Clock.GetUtcNow().AddSeconds(1).ToString("o"));
        var from = Uri.EscapeDataString(start.ToString("o"));

        var report = await server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/usage?from={from}&to={to}");
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray());
        Assert.Equal("a", row.GetProperty("tenant").GetString());
        Assert.Equal("G", row.GetProperty("model").GetString());
        Assert.Equal("s", row.GetProperty("site").GetString());
        Assert.Equal(4.0, row.GetProperty("gpuHours").GetDouble(), 6);
        // 4 GPU-hours × 700 W busy × PUE 1.2.
        Assert.Equal(3.36, row.GetProperty("energyKwh").GetDouble(), 6);

        // Half the period: half the hours.
        var half = Uri.EscapeDataString(start.AddSeconds(1800).ToString("o"));
        var firstHalf = await server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/usage?from={from}&to={half}");
        Assert.Equal(2.0, firstHalf.GetProperty("rows")[0].GetProperty("gpuHours").GetDouble(), 6);

        var csv = await server.Client.GetStringAsync($"/api/v1/usage?from={from}&to={to}&format=csv");
        Assert.StartsWith("tenant,owner,model,site,gpuHours,energyKwh,cost\na,a,G,s,4.0000,3.3600,", csv);
        using var b = server.ClientWith(await server.MintAsync("viewer", "b"));
        Assert.Equal(0, (await b.GetFromJsonAsync<JsonElement>($"/api/v1/usage?from={from}&to={to}")).GetProperty("rows").GetArrayLength());
        // The same 4 GPU-hours are charged to a's grant.
        var grant = Assert.Single((await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/grants")).EnumerateArray());
        Assert.Equal("starter", grant.GetProperty("grant").GetString());
        Assert.Equal(4.0, grant.GetProperty("usedGpuHours").GetDouble(), 6);
        Assert.Equal(1_000_000 - 4.0, grant.GetProperty("leftGpuHours").GetDouble(), 6);
        Assert.Equal(0, (await b.GetFromJsonAsync<JsonElement>("/api/v1/grants")).GetArrayLength());
        using var bad = await server.Client.GetAsync($"/api/v1/usage?from={to}&to={from}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task A_running_job_is_charged_up_to_now_whatever_the_period_asked()
    {
        await using var server = await RunningServer.StartAsync(backend);
        var start = server.Clock.GetUtcNow();
        await server.PostJobAsync(new { tenant = "a", gpus = 2, timeLimitSeconds = 86_400, runtimeSeconds = 80_000 });
        server.Scheduler.Tick();
        server.Clock.Advance(TimeSpan.FromHours(1));
        string Time(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("o"));
        // A period reaching into the future charges the hour that has passed, not the whole period.
        var report = await server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/usage?from={Time(start)}&to={Time(start.AddDays(30))}");
        Assert.Equal(2.0, Assert.Single(report.GetProperty("rows").EnumerateArray()).GetProperty("gpuHours").GetDouble(), 6);
        var tomorrow = await server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/usage?from={Time(start.AddDays(1))}&to={Time(start.AddDays(2))}");
        Assert.Equal(0, tomorrow.GetProperty("rows").GetArrayLength());
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class UsageTestsOnSqlite() : UsageTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class UsageTestsOnPostgres() : UsageTests(Backend.Postgres);
