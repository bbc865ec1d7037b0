using System.CommandLine;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;
using GpuFleet.Data.Traces;
using GpuFleet.Server.Hosting;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// <c>gpufleet demo</c>: the whole service in one command — the Korean fleet and tenant tree, a fresh
/// SQLite database, the simulated executor on accelerated time, and the shipped Philly sample replayed
/// as background load. Prints the URL and an admin token.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", DefaultValueFactory = _ => "fleets/korea-2030.yaml" };
        var tenants = new Option<string>("--tenants") { Description = "Tenant tree YAML.", DefaultValueFactory = _ => "tenants/korea-2030.yaml" };
        var trace = new Option<string>("--trace") { Description = "Trace replayed as background load.", DefaultValueFactory = _ => "traces/philly-2017-10.csv.gz" };
        var db = new Option<string>("--db") { Description = "SQLite file; emptied at start.", DefaultValueFactory = _ => "out/demo.db" };
        var urls = new Option<string>("--urls") { Description = "Address to listen on.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var timeScale = new Option<double>("--time-scale") { Description = "Trace seconds per real second.", DefaultValueFactory = _ => 600 };
        var gpuScale = new Option<int>("--gpu-scale") { Description = "Replayed jobs ask for this many times their trace GPUs.", DefaultValueFactory = _ => 256 };
        var scheduling = new SchedulerFlags();
        var twin = new TwinFlags();
        var command = new Command("demo", "Run the service on the Korean fleet with a replayed background load; prints the URL and a token.")
        {
            fleet, tenants, trace, db, urls, timeScale, gpuScale,
        };
        foreach (var flag in scheduling.All.Concat(twin.All)) command.Options.Add(flag);
        command.SetAction(r => CliRunner.Guard(() => Run(r.GetValue(fleet)!, r.GetValue(tenants)!, r.GetValue(trace)!, r.GetValue(db)!,
            r.GetValue(urls)!, r.GetValue(timeScale), r.GetValue(gpuScale), scheduling.Read(r), twin.Read(r))));
        return command;
    }

    private static int Run(string fleetPath, string tenantsPath, string tracePath, string db, string urls, double timeScale, int gpuScale, SchedulerOptions scheduling,
        GpuFleet.Server.Twin.TwinSettings twin)
    {
        if (!(timeScale > 0)) throw new CliUsageException("--time-scale must be positive");
        if (gpuScale < 1) throw new CliUsageException("--gpu-scale must be at least 1");
        var fleet = FleetFile.Load(fleetPath);
        var tree = TenantFile.Load(tenantsPath, fleet);
        var jobs = TraceFile.Load(tracePath);
        if (GpuFleet.Server.Storage.PostgresDialect.Recognises(db))
            throw new CliUsageException("--db: the demo starts from an empty SQLite file; run 'serve --db' for PostgreSQL");
        var dir = Path.GetDirectoryName(Path.GetFullPath(db));
        if (dir is not null) Directory.CreateDirectory(dir);
        foreach (var f in new[] { db, db + "-wal", db + "-shm" }) File.Delete(f);
        var admin = Environment.GetEnvironmentVariable("GPUFLEET_ADMIN_TOKEN") is { Length: > 0 } fromEnv
            ? fromEnv
            : "gf_demo_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var app = ServerApp.Build(new ServerSettings
        {
            Fleet = fleet, Scheduling = scheduling with { Policy = SchedulingPolicy.Shared, Tenants = tree }, Database = db, TimeScale = timeScale, AdminToken = admin,
            Replay = jobs, ReplayGpuScale = gpuScale, ClockOrigin = DateTimeOffset.UtcNow, Twin = twin,
        }, ["--urls", urls]);
        Console.WriteLine($"GpuFleet demo: {fleet.Name} ({fleet.TotalGpus:N0} GPUs, {tree.Leaves.Count()} projects), replaying {jobs.Count:N0} jobs of {tracePath} at {timeScale}x");
        Console.WriteLine($"  URL:   {urls}   (try {urls}/api/v1/sites, {urls}/metrics, {urls}/openapi/v1.json)");
        Console.WriteLine($"  token: {admin}");
        Console.WriteLine($"  e.g.   curl -H 'Authorization: Bearer {admin}' {urls}/api/v1/queues");
        Console.WriteLine($"  dashboard: {urls}/ (sign in with the token); what-if runs of the twin: {urls}/twin");
        app.Run();
        return 0;
    }
}
