using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Storage;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// <c>gpufleet serve</c>: the control plane as a web service, over an embedded SQLite file or a
/// PostgreSQL database; several replicas may share one database (one schedules, all serve the API).
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", Required = true };
        var tenants = SimulateCommand.TenantsOption();
        var db = new Option<string>("--db") { Description = "Database: an SQLite file (created if missing), or PostgreSQL as 'Host=H;Port=P;Username=U;Database=D' or 'postgresql://U@H:P/D'. Migrated on start; replicas share it.", DefaultValueFactory = _ => "gpufleet.db" };
        var executor = new Option<string>("--executor") { Description = "Who runs placed jobs at sites whose fleet file names no executor: simulated (jobs run for their declared or drawn run time). A site's executor section (slurm, kubernetes, local) takes precedence.", DefaultValueFactory = _ => "simulated" };
        var urls = new Option<string>("--urls") { Description = "Address to listen on.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var policy = new Option<string?>("--policy") { Description = "Policy (default: shared with --tenants, fairshare without)." };
        var timeScale = new Option<double>("--time-scale") { Description = "The simulated executor runs jobs this many times faster.", DefaultValueFactory = _ => 1 };
        var advertise = new Option<string?>("--advertise-url") { Description = "Where other replicas reach this one's API when it leads (default: the address it listens on)." };
        var rateLimit = new Option<int>("--rate-limit") { Description = "Requests per minute per token (more: 429).", DefaultValueFactory = _ => ServerSettings.DefaultRequestsPerMinutePerToken };
        var addressRateLimit = new Option<int>("--address-rate-limit") { Description = "Requests per minute per client address without a token (/metrics, /openapi; more: 429). /healthz is never limited.", DefaultValueFactory = _ => ServerSettings.DefaultRequestsPerMinutePerAddress };
        var authFailureLimit = new Option<int>("--auth-failure-limit") { Description = "Failed authentications per minute per client address; beyond, its API calls get 429 until the minute is over.", DefaultValueFactory = _ => ServerSettings.DefaultFailedAuthenticationsPerMinutePerAddress };
        var trustedProxy = new Option<string[]>("--trusted-proxy") { Description = "A proxy (address or CIDR network; repeat for several) whose X-Forwarded-For names the client for the per-address limits. Without one the header is ignored.", AllowMultipleArgumentsPerToken = false };
        var lease = new Option<double>("--lease-seconds") { Description = "How long the scheduler lease lasts unless renewed: a leader that stops renewing it (frozen, cut off) is replaced after this long; one that dies, at once.", DefaultValueFactory = _ => JobStore.DefaultLeaseTime.TotalSeconds };
        var logDir = new Option<string?>("--log-dir") { Description = "Where jobs' output lies, one <id>.log each (the local executor's log directory), for GET /api/v1/jobs/{id}/log and 'gpufleet logs'." };
        var installation = new Option<string?>("--installation") { Description = "This installation's name on the clusters it shares with others (staging, prod): its runs are named gpufleet-<installation>-<id> and it leaves other installations' runs alone. Overrides the fleet file's 'installation'; default: none (runs named gpufleet-<id>)." };
        var scheduling = new SchedulerFlags();
        var twin = new TwinFlags();
        var command = new Command("serve", "Run the control plane: the job API under /api/v1 and the scheduling loop on the real clock.")
        {
            fleet, tenants, db, executor, urls, policy, timeScale, advertise, rateLimit, addressRateLimit, authFailureLimit, trustedProxy, lease, logDir, installation,
        };
        foreach (var flag in scheduling.All.Concat(twin.All)) command.Options.Add(flag);
        command.SetAction(r => CliRunner.Guard(() =>
        {
            var twinSettings = twin.Read(r);
            var perToken = Positive("--rate-limit", r.GetValue(rateLimit));
            var perAddress = Positive("--address-rate-limit", r.GetValue(addressRateLimit));
            var failures = Positive("--auth-failure-limit", r.GetValue(authFailureLimit));
            var leaseSeconds = r.GetValue(lease);
            if (!(leaseSeconds is >= 1 and <= 3600)) throw new CliUsageException($"--lease-seconds: must be between 1 and 3600, not {leaseSeconds}");
            IReadOnlyList<IPNetwork> proxies = [.. (r.GetValue(trustedProxy) ?? []).Select(ParseNetwork)];
            var named = r.GetValue(installation);
            if (named is not null && GpuFleet.Core.Fleets.InstallationName.Problem(named) is { } wrong) throw new CliUsageException($"--installation: {wrong}");
            var options = scheduling.Read(r);
            return Run(r.GetValue(fleet)!, r.GetValue(tenants), r.GetValue(db)!, r.GetValue(executor)!, r.GetValue(urls)!, r.GetValue(policy),
                r.GetValue(timeScale), r.GetValue(advertise), options, settings => settings with
                {
                    RequestsPerMinutePerToken = perToken, RequestsPerMinutePerAddress = perAddress,
                    FailedAuthenticationsPerMinutePerAddress = failures, TrustedProxies = proxies, LeaseTime = TimeSpan.FromSeconds(leaseSeconds),
                    LogDirectory = r.GetValue(logDir), Twin = twinSettings, Installation = named,
                });
        }));
        return command;
    }

    private static int Positive(string flag, int value) => value > 0 ? value : throw new CliUsageException($"{flag} must be at least 1, not {value}");

    /// <summary>An address (one host) or a CIDR network.</summary>
    internal static IPNetwork ParseNetwork(string text)
    {
        if (IPNetwork.TryParse(text, out var network)) return network;
        if (IPAddress.TryParse(text, out var address)) return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        throw new CliUsageException($"--trusted-proxy: '{text}' is not an IP address or a CIDR network (10.0.0.0/8)");
    }

    private static int Run(string fleetPath, string? tenantsPath, string db, string executor, string urls, string? policyName, double timeScale, string? advertise,
        SchedulerOptions scheduling, Func<ServerSettings, ServerSettings> limits)
    {
        if (advertise is not null && !(Uri.TryCreate(advertise, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
            throw new CliUsageException($"--advertise-url: '{advertise}' is not an http(s) URL");
        if (executor != "simulated") throw new CliUsageException($"--executor: unknown executor '{executor}' (known: simulated)");
        if (!(timeScale > 0)) throw new CliUsageException("--time-scale must be positive");
        GpuFleet.Core.Fleets.Fleet fleet;
        try
        {
            // Sites with "inventory: cluster" take their nodes from their clusters, asked once now.
            fleet = FleetFile.Load(fleetPath, GpuFleet.Server.Execution.SiteExecutors.NodesOf);
        }
        catch (Exception e) when (e is GpuFleet.Executors.ExecutorUnreachableException or GpuFleet.Executors.ExecutorRejectedException)
        {
            throw new CliUsageException($"{fleetPath}: a site takes its nodes from its cluster, which did not list them: {e.Message}");
        }
        var policy = policyName is null
            ? (tenantsPath is null ? SchedulingPolicy.FairShare : SchedulingPolicy.Shared)
            : SimulateCommand.ParsePolicies(policyName).Single();
        var tree = SimulateCommand.LoadTenants(tenantsPath, fleet, [policy]);
        // The first admin token comes from the environment; without one, a fresh token is minted and shown once.
        var admin = Environment.GetEnvironmentVariable("GPUFLEET_ADMIN_TOKEN");
        var generated = string.IsNullOrWhiteSpace(admin);
        if (generated) admin = "gf_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var database = StoreDialect.For(db).Describe(db);
        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = ServerApp.Build(limits(new ServerSettings
            {
                Fleet = fleet, Scheduling = scheduling with { Policy = policy, Tenants = tree }, Database = db, TimeScale = timeScale, AdminToken = admin, AdvertisedUrl = advertise,
            }), ["--urls", urls]);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or UriFormatException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--db: cannot open {database}: {e.Message}");
        }
        Console.Error.WriteLine($"gpufleet: {fleet.Name} ({fleet.TotalGpus:N0} GPUs), policy {policy.Name}, database {database}, listening on {urls}");
        if (generated) Console.Error.WriteLine($"admin token (GPUFLEET_ADMIN_TOKEN was not set): {admin}");
        app.Run();
        return 0;
    }
}
