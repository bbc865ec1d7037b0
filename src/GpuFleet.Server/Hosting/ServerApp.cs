using GpuFleet.Core.Execution;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Api;
using GpuFleet.Server.Execution;
using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Threading.RateLimiting;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Prometheus;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Hosting;

/// <summary>Builds the GpuFleet web application: storage, the scheduling loop, the API and health.</summary>
public static class ServerApp
{
    /// <summary>Builds (does not start) the application; <paramref name="configure"/> may adjust the builder (tests use a test server).</summary>
    public static WebApplication Build(ServerSettings settings, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        // No thread-pool floor: the request path awaits the database and never holds a thread while it
        // waits, so the pool's default (a thread per core) serves any number of waiting clients.
        var builder = WebApplication.CreateBuilder(args ?? []);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes);
        // One line per request at information level drowns the scheduler's own log; keep warnings.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        var store = new JobStore(settings.Database, settings.LeaseTime);
        var tokens = new TokenStore(store);
        if (settings.AdminToken is { Length: > 0 } admin) tokens.EnsureAdmin(admin, DateTimeOffset.UtcNow);
        // Registered through a factory so that the container disposes it (and its connections) with the app.
        builder.Services.AddSingleton(_ => store);
        builder.Services.AddSingleton(tokens);
        builder.Services.AddSingleton(_ => new FailedAuthentications(settings.FailedAuthenticationsPerMinutePerAddress));
        builder.Services.AddRateLimiter(o =>
        {
            // A token holder has its own bucket; a request without a token (the API refuses those
            // before this, so /metrics and /openapi) counts against its client's address, so that one
            // scraper or attacker cannot use up a bucket that everyone else shares (token ids start at 1).
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, (long TokenId, IPAddress Address)>(context =>
                CallerAccess.Of(context) is { } caller
                    ? RateLimitPartition.GetFixedWindowLimiter((caller.TokenId, IPAddress.None), _ => PerMinute(settings.RequestsPerMinutePerToken))
                    : RateLimitPartition.GetFixedWindowLimiter((0L, ClientAddress.Of(context)), _ => PerMinute(settings.RequestsPerMinutePerAddress)));
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (rejected, _) => new ValueTask(TooManyRequests.AnswerAsync(rejected.HttpContext,
                rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1),
                CallerAccess.Of(rejected.HttpContext) is null ? "too many requests from this address" : "too many requests with this token"));
        });
        builder.Services.AddSingleton(new SubmissionValidator(settings));
        builder.Services.AddSingleton(_ => new ServiceStore(store));
        builder.Services.AddSingleton(new ServiceValidator(settings));
        // Each leadership starts with a fresh executor: the previous one's runs were requeued.
        builder.Services.AddSingleton<Func<Func<JobSpec, long>, IJobExecutor>>(_ => runtimeOf => new SimulatedExecutor(settings.Fleet, runtimeOf, settings.TimeScale));
        builder.Services.TryAddSingleton<SiteExecutorFactory>((fleet, site) => SiteExecutors.Create(fleet, site, settings.Installation));
        builder.Services.AddSingleton<LiveScheduler>();
        builder.Services.AddSingleton<LeaderQuery>();
        builder.Services.AddSingleton<LeaderLog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LiveScheduler>());
        builder.Services.AddSingleton(new Twin.TwinCatalog(settings.Twin));
        builder.Services.AddSingleton<Twin.TwinValidator>();
        builder.Services.TryAddSingleton<Twin.TwinRunner>(Twin.TwinSimulation.Run);
        builder.Services.AddSingleton<Twin.TwinRunQueue>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Twin.TwinRunQueue>());
        builder.Services.AddSingleton<TraceReplayer>();
        if (settings.Replay is { Count: > 0 }) builder.Services.AddHostedService(sp => sp.GetRequiredService<TraceReplayer>());
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(new FleetMetrics(Prometheus.Metrics.NewCustomRegistry()));
        Dashboard.DashboardEndpoints.AddServices(builder.Services);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            // The web defaults read "8" as 8; a number must be a JSON number, as every other type must be itself.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // {"gpus":4,...,"gpus":999999}: the last would win silently, and a proxy or log that reads the first would see another job.
            o.SerializerOptions.AllowDuplicateProperties = false;
        });
        // A call that throws is answered with the status the audit log records for it.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = CallerAccess.FailureStatus);
        configure?.Invoke(builder);

        var app = builder.Build();
        if (settings.TrustedProxies.Count > 0)
        {
            // Only a proxy named here may say who the client is; its last hop is the one it saw.
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = 1 };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in settings.TrustedProxies) forwarded.KnownIPNetworks.Add(network);
            app.UseForwardedHeaders(forwarded);
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestBodyLimit>();
        var registry = app.Services.GetRequiredService<FleetMetrics>().Registry;
        // API latency and counts by endpoint, into this server's registry.
        app.UseHttpMetrics(o =>
        {
            o.InProgress.Registry = registry;
            o.RequestCount.Registry = registry;
            o.RequestDuration.Registry = registry;
        });
        var metrics = app.Services.GetRequiredService<FleetMetrics>();
        // Refused calls are counted here rather than audited one row each (see CallerAccess).
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            finally
            {
                if (CallerAccess.IsRefusal(context.Response.StatusCode))
                    metrics.RefusedRequests.WithLabels(context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            }
        });
        app.UseMiddleware<CallerAccess>();
        app.UseRateLimiter();
        // Liveness probes must not fail because someone else floods the server.
        app.MapGet("/healthz", async (HttpContext context, LiveScheduler s, JobStore jobs) =>
        {
            var lease = await jobs.LeaseAsync(context.RequestAborted);
            return Results.Ok(new
            {
                status = "ok", leader = s.IsLeader, replica = s.Holder, cycles = s.Cycles, lastCycleMs = Math.Round(s.LastCycleMs, 1),
                leaseEpoch = lease.Epoch, leaseHolder = lease.Holder, leaseSince = lease.Since, leaseExpiresAt = lease.ExpiresAt, leaderUrl = lease.Url,
                database = jobs.Dialect.Name, schemaVersion = jobs.SchemaVersion,
            });
        }).DisableRateLimiting();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapMetrics("/metrics", registry);
        JobEndpoints.Map(app);
        ServiceEndpoints.Map(app);
        FleetEndpoints.Map(app);
        UsageEndpoints.Map(app);
        TokenEndpoints.Map(app);
        TwinEndpoints.Map(app);
        Dashboard.DashboardEndpoints.Map(app);
        return app;
    }

    private static FixedWindowRateLimiterOptions PerMinute(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };
}
