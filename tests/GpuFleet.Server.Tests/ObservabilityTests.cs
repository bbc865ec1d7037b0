using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Server.Tests;

[Trait("Category", "Server")]
public sealed class ObservabilityTests
{
    [Fact]
    public async Task Metrics_openapi_queues_and_sites_describe_the_live_state()
    {
        await using var server = await RunningServer.StartAsync();
        await server.PostJobAsync(new { tenant = "a", gpus = 12, timeLimitSeconds = 600 });
        server.Scheduler.Tick();

        var metrics = await server.ClientWith(null).GetStringAsync("/metrics");
        Assert.Contains("gpufleet_jobs_running 1", metrics);
        Assert.Contains("gpufleet_gpus_busy 12", metrics);
        Assert.Contains("gpufleet_utilization 0.75", metrics);
        Assert.Contains("gpufleet_cycle_seconds_count", metrics);
        Assert.Contains("http_request_duration_seconds", metrics);

        var health = await server.ClientWith(null).GetFromJsonAsync<JsonElement>("/healthz");
        Assert.True(health.GetProperty("leader").GetBoolean());
        Assert.Equal(health.GetProperty("replica").GetString(), health.GetProperty("leaseHolder").GetString());
        Assert.Equal("sqlite", health.GetProperty("database").GetString());
        Assert.Equal(new GpuFleet.Server.Storage.SqliteDialect().Migrations.Count, health.GetProperty("schemaVersion").GetInt32());

        var openapi = await server.ClientWith(null).GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/v1/jobs", openapi);
        Assert.Contains("/api/v1/tokens", openapi);

        // a borrows 4 of b's idle 8: a uses 12 of its 8, b lends.
        var queues = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/queues")).EnumerateArray().ToDictionary(q => q.GetProperty("tenant").GetString()!);
        Assert.Equal(12, queues["a"].GetProperty("usedGpus").GetInt32());
        Assert.Equal(4, queues["a"].GetProperty("borrowedGpus").GetInt32());
        Assert.Equal(8, queues["b"].GetProperty("idleGuaranteeGpus").GetInt32());
        Assert.Equal(4, queues["b"].GetProperty("lentGpus").GetDouble());
        Assert.Equal(0, queues["a"].GetProperty("lentGpus").GetDouble());
        // The same per model (one model here), and where each stands in the fair-share order.
        var aModel = Assert.Single(queues["a"].GetProperty("models").EnumerateArray());
        Assert.Equal(("G", 12, 4), (aModel.GetProperty("model").GetString(), aModel.GetProperty("usedGpus").GetInt32(), aModel.GetProperty("borrowedGpus").GetInt32()));
        Assert.Equal(4, Assert.Single(queues["b"].GetProperty("models").EnumerateArray()).GetProperty("lentGpus").GetDouble());
        Assert.InRange(queues["a"].GetProperty("fairShare").GetProperty("rank").GetInt32(), 1, queues["a"].GetProperty("fairShare").GetProperty("siblings").GetInt32());
        using var bOnly = server.ClientWith(await server.MintAsync("viewer", "b"));
        Assert.Equal(["b"], (await bOnly.GetFromJsonAsync<JsonElement>("/api/v1/queues")).EnumerateArray().Select(q => q.GetProperty("tenant").GetString()));

        var site = (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites"))[0];
        Assert.Equal(16, site.GetProperty("gpus").GetInt32());
        Assert.Equal(12, site.GetProperty("busyGpus").GetInt32());
        Assert.InRange(site.GetProperty("powerMw").GetDouble(), 0.001, site.GetProperty("powerCapMw").GetDouble());
        var pool = Assert.Single(site.GetProperty("pools").EnumerateArray());
        Assert.Equal(("G", 16, 12), (pool.GetProperty("model").GetString(), pool.GetProperty("gpus").GetInt32(), pool.GetProperty("busyGpus").GetInt32()));
        Assert.True(site.GetProperty("energyTodayMwh").GetDouble() >= 0);
    }
}
