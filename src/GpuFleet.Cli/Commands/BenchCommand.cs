using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using GpuFleet.Data.Tenancy;
using System.Net.Http.Json;
using System.Text.Json;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Workloads;
using GpuFleet.Simulation.Benchmarking;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Cli.Commands;

/// <summary><c>gpufleet bench cycle|simulate|api|slurm</c>: absolute speed figures of the scheduling core, the twin, the API, and GpuFleet over Slurm.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", Required = true };
        var pending = new Option<int>("--pending") { Description = "Pending jobs during the measured cycles.", DefaultValueFactory = _ => 100_000 };
        var busy = new Option<double>("--busy") { Description = "Share of GPUs busy before measuring.", DefaultValueFactory = _ => 0.95 };
        var cycles = new Option<int>("--cycles") { Description = "Measured cycles.", DefaultValueFactory = _ => 50 };
        var policy = new Option<string>("--policy") { Description = "Policy.", DefaultValueFactory = _ => "fairshare" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1, Description = "Random seed." };
        var json = new Option<string?>("--json") { Description = "Write results as JSON." };
        var tenants = SimulateCommand.TenantsOption();
        var mix = new Option<string?>("--mix") { Description = "Draw half the jobs from a request mix (pai-2020: fractions of GPUs, CPU and memory)." };
        var services = new Option<int>("--services") { Description = "Inference services scaled between cycles (rates swinging over a day; half on MIG slices).", DefaultValueFactory = _ => 0 };
        var cycle = new Command("cycle", "Time scheduling cycles on a busy fleet with a long pending queue.") { fleet, pending, busy, cycles, policy, seed, json, tenants, mix, services };
        cycle.SetAction(r => CliRunner.Guard(() => Cycle(r.GetValue(fleet)!, r.GetValue(pending), r.GetValue(busy), r.GetValue(cycles), r.GetValue(policy)!, r.GetValue(seed), r.GetValue(json), r.GetValue(tenants),
            r.GetValue(mix), r.GetValue(services))));

        var simFleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", Required = true };
        var trace = new Option<string?>("--trace") { Description = "Trace file; without it a workload is generated." };
        var days = new Option<double>("--days") { Description = "Generated workload length.", DefaultValueFactory = _ => 30 };
        var load = new Option<double>("--load") { Description = "Generated workload offered load.", DefaultValueFactory = _ => 0.9 };
        var simPolicy = new Option<string>("--policy") { Description = "Policy.", DefaultValueFactory = _ => "backfill" };
        var simSeed = new Option<int>("--seed") { DefaultValueFactory = _ => 1, Description = "Random seed for the generated workload." };
        var simJson = new Option<string?>("--json") { Description = "Write results as JSON." };
        var simTenants = SimulateCommand.TenantsOption();
        var simulate = new Command("simulate", "Simulation throughput: jobs and cycles per second of wall time.") { simFleet, trace, days, load, simPolicy, simSeed, simJson, simTenants };
        simulate.SetAction(r => CliRunner.Guard(() => Simulate(r.GetValue(simFleet)!, r.GetValue(trace), r.GetValue(days), r.GetValue(load), r.GetValue(simPolicy)!, r.GetValue(simSeed), r.GetValue(simJson), r.GetValue(simTenants))));
        var apiFleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", DefaultValueFactory = _ => "fleets/korea-2030.yaml" };
        var apiTenants = new Option<string>("--tenants") { Description = "Tenant tree YAML.", DefaultValueFactory = _ => "tenants/korea-2030.yaml" };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients.", DefaultValueFactory = _ => 64 };
        var seconds = new Option<double>("--seconds") { Description = "How long to measure.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring (not counted).", DefaultValueFactory = _ => 2 };
        var apiJson = new Option<string?>("--json") { Description = "Write results as JSON." };
        var sbatch = new Option<bool>("--sbatch") { Description = "Also measure sbatch on the Slurm of SLURM_CONF with as many parallel submitters (scripts/slurm-local.sh starts one)." };
        var postgres = new Option<string?>("--postgres") { Description = "Also measure on PostgreSQL: a connection string to a server where a throwaway database may be created (scripts/postgres-local.sh starts one)." };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Measure every store (and sbatch) in turn this many times; with more than one, each figure is the median of the rounds, and 'rounds' lists them all.",
            DefaultValueFactory = _ => 1,
        };
        var api = new Command("api", "Sustained job submissions per second and latency through the HTTP API (in-process server on SQLite, and on PostgreSQL with --postgres).")
        {
            apiFleet, apiTenants, clients, warmup, seconds, apiJson, sbatch, postgres, rounds,
        };
        api.SetAction(r => CliRunner.Guard(() => ApiLoad(r.GetValue(apiFleet)!, r.GetValue(apiTenants)!, r.GetValue(clients), r.GetValue(warmup), r.GetValue(seconds), r.GetValue(apiJson),
            r.GetValue(sbatch), r.GetValue(postgres), r.GetValue(rounds))));
        return new Command("bench", "Benchmarks with absolute figures.") { cycle, simulate, api, SlurmBench.SlurmBenchCommand.Create(), DashboardBench.Create(), SaturationBench.Create() };
    }

    private static int Cycle(string fleetPath, int pendingTarget, double busyTarget, int cycles, string policyName, int seed, string? json, string? tenantsPath, string? mixName,
        int services)
    {
        if (services < 0) throw new CliUsageException("--services must be at least 0");
        var mix = mixName is null ? null : RequestMix.Find(mixName) ?? throw new CliUsageException($"--mix: unknown mix '{mixName}' (known: {RequestMix.Pai2020.Name})");
        if (pendingTarget < 1) throw new CliUsageException("--pending must be at least 1");
        if (busyTarget is <= 0 or >= 1) throw new CliUsageException("--busy must be between 0 and 1");
        if (cycles < 1) throw new CliUsageException("--cycles must be at least 1");
        var policy = SimulateCommand.ParsePolicies(policyName).Single();
        var fleet = FleetFile.Load(fleetPath);
        var tree = SimulateCommand.LoadTenants(tenantsPath, fleet, [policy]);
        var setup = Stopwatch.StartNew();
        var workload = new BusyFleetWorkload(fleet, policy, busyTarget, pendingTarget, seed, tree, mix, services);
        var scheduler = workload.Scheduler;
        Console.Error.WriteLine($"setup {setup.Elapsed.TotalSeconds:F1} s: {workload.BusyGpus:N0}/{fleet.TotalGpus:N0} GPUs busy, {scheduler.RunningCount:N0} running, {scheduler.PendingCount:N0} pending");

        // Measure after three warm-up cycles (JIT); between cycles some jobs end and as many arrive.
        var times = new List<double>();
        var placed = 0;
        for (var c = 0; c < cycles + 3; c++)
        {
            workload.Churn();
            var watch = Stopwatch.StartNew();
            var started = workload.RunCycle();
            var ms = watch.Elapsed.TotalMilliseconds;
            workload.Decisions.Add(workload.LastCycle!);
            if (c < 3) continue;
            times.Add(ms);
            placed += started;
        }
        times.Sort();
        var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
        var report = new JsonObject
        {
            ["fleet"] = fleet.Name,
            ["fleetGpus"] = fleet.TotalGpus,
            ["policy"] = policy.Name,
            ["busyGpus"] = workload.BusyGpus,
            ["pending"] = scheduler.PendingCount,
            ["running"] = scheduler.RunningCount,
            ["cycles"] = times.Count,
            ["cycleMsP50"] = Math.Round(Percentile.OfSorted(times, 0.5), 3),
            ["cycleMsP99"] = Math.Round(Percentile.OfSorted(times, 0.99), 3),
            ["cycleMsMean"] = Math.Round(times.Average(), 3),
            ["cycleMsMax"] = Math.Round(times[^1], 3),
            ["placementsPerCycle"] = Math.Round((double)placed / times.Count, 2),
            ["mix"] = mix?.Name,
            ["sharedGpus"] = scheduler.SharedGpuCount,
            ["services"] = services,
            ["replicas"] = workload.Replicas,
            ["peakMemoryMb"] = Math.Round(peakMb, 1),
            ["decisionsSha256"] = workload.Decisions.Sha256Hex(),
        };
        Print(report, json);
        return 0;
    }

    private static int Simulate(string fleetPath, string? tracePath, double days, double load, string policyName, int seed, string? json, string? tenantsPath)
    {
        var policy = SimulateCommand.ParsePolicies(policyName).Single();
        var fleet = FleetFile.Load(fleetPath);
        var tree = SimulateCommand.LoadTenants(tenantsPath, fleet, [policy]);
        var jobs = tracePath is not null ? TraceFile.Load(tracePath) : WorkloadGenerator.Generate(WorkloadModel.Default, fleet, days, load, seed, tree);
        Console.Error.WriteLine($"{jobs.Count:N0} jobs on {fleet.Name} ({fleet.TotalGpus:N0} GPUs), policy {policy.Name}");
        var watch = Stopwatch.StartNew();
        var result = CliRunner.WithProgress("simulate", p => Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = policy, Tenants = tree }, new SimulationOptions { Progress = p }));
        var wall = watch.Elapsed.TotalSeconds;
        var r = result.Report;
        var report = new JsonObject
        {
            ["fleet"] = fleet.Name,
            ["fleetGpus"] = fleet.TotalGpus,
            ["trace"] = tracePath ?? $"generated: {days} days at load {load}, seed {seed}",
            ["policy"] = policy.Name,
            ["jobs"] = jobs.Count,
            ["cycles"] = r.Cycles,
            ["wallSeconds"] = Math.Round(wall, 3),
            ["jobsPerSecond"] = Math.Round(jobs.Count / wall, 0),
            ["cyclesPerSecond"] = Math.Round(r.Cycles / wall, 0),
            ["utilization"] = Math.Round(r.Utilization, 4),
            ["utilizationWhileArriving"] = Math.Round(r.UtilizationWhileArriving, 4),
            ["meanWaitSeconds"] = Math.Round(r.MeanWaitSeconds, 1),
            ["perOwner"] = JsonSerializer.SerializeToNode(r.PerOwner, SimulateCommand.Json),
            ["preemptions"] = r.Preemptions,
            ["lostGpuHours"] = Math.Round(r.LostGpuHours, 1),
            ["lentGpuHours"] = Math.Round(r.LentGpuHours, 0),
            ["largeGangJobs"] = r.LargeGangJobs,
            ["largeGangMaxWaitSeconds"] = r.LargeGangMaxWaitSeconds,
            ["energyKwh"] = Math.Round(r.EnergyKwh, 0),
            ["sitePeakPowerMw"] = JsonSerializer.SerializeToNode(r.SitePeakPowerMw.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 2)), SimulateCommand.Json),
            ["sitePowerCapMw"] = JsonSerializer.SerializeToNode(r.SitePowerCapMw, SimulateCommand.Json),
            ["powerCapViolations"] = r.PowerCapViolations,
            ["peakMemoryMb"] = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024), 1),
        };
        Print(report, json);
        return 0;
    }

    private static int ApiLoad(string fleetPath, string tenantsPath, int clients, double warmup, double seconds, string? json, bool sbatch, string? postgres, int rounds)
    {
        if (rounds < 1) throw new CliUsageException("--rounds must be at least 1");
        if (clients < 1) throw new CliUsageException("--clients must be at least 1");
        if (!(seconds > 0)) throw new CliUsageException("--seconds must be positive");
        if (!(warmup >= 0)) throw new CliUsageException("--warmup must be zero or more");
        if (sbatch && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SLURM_CONF")))
            throw new CliUsageException("--sbatch: set SLURM_CONF to a running Slurm's slurm.conf (scripts/slurm-local.sh start prints it)");
        var fleet = FleetFile.Load(fleetPath);
        var tree = TenantFile.Load(tenantsPath, fleet);
        var report = new JsonObject { ["clients"] = clients, ["warmupSeconds"] = warmup, ["seconds"] = seconds };
        // Rounds take turns store by store, so that a machine that slows down or speeds up during the run
        // weighs on every store and on sbatch alike, and their ratios stay comparable.
        var measured = Enumerable.Range(0, rounds).Select(_ => ApiRound(fleet, tree, clients, warmup, seconds, sbatch, postgres)).ToList();
        foreach (var (key, value) in rounds == 1 ? measured[0] : ApiMedians(measured)) report[key] = value?.DeepClone();
        if (rounds > 1) report["rounds"] = new JsonArray([.. measured]);
        Print(report, json);
        return 0;
    }

    // The median of each figure over the rounds, store by store, and of the ratios to sbatch.
    private static JsonObject ApiMedians(IReadOnlyList<JsonObject> rounds)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }
        // A figure as the round wrote it: a whole number (jobs submitted) or not.
        static double Number(JsonNode? node) => Convert.ToDouble(node!.AsValue().GetValue<object>(), System.Globalization.CultureInfo.InvariantCulture);
        var medians = new JsonObject();
        foreach (var (key, first) in rounds[0])
        {
            if (first is JsonObject figures)
                medians[key] = new JsonObject(figures.Select(f => KeyValuePair.Create(f.Key,
                    (JsonNode?)Math.Round(Median(rounds.Select(r => Number(r[key]![f.Key]))), 2))));
            else
                medians[key] = Math.Round(Median(rounds.Select(r => Number(r[key]))), 2);
        }
        return medians;
    }

    // One round: SQLite, then PostgreSQL when asked, then sbatch when asked, and the ratios.
    private static JsonObject ApiRound(GpuFleet.Core.Fleets.Fleet fleet, GpuFleet.Core.Tenancy.TenantTree tree, int clients, double warmup, double seconds, bool sbatch,
        string? postgres)
    {
        var report = new JsonObject();
        var sqlite = Path.Combine(Path.GetTempPath(), $"gpufleet-bench-{Guid.NewGuid():N}.db");
        try
        {
            report["sqlite"] = ApiLoadOn(sqlite, fleet, tree, clients, warmup, seconds);
        }
        finally
        {
            foreach (var f in new[] { sqlite, sqlite + "-wal", sqlite + "-shm" }) File.Delete(f);
        }
        if (postgres is not null)
        {
            // A database of its own, dropped afterwards: the figures do not depend on what an earlier run left.
            var admin = new Npgsql.NpgsqlConnectionStringBuilder(GpuFleet.Server.Storage.PostgresDialect.ConnectionString(postgres));
            var name = $"gpufleet_bench_{Guid.NewGuid():N}";
            void Admin(string sql)
            {
                using var c = new Npgsql.NpgsqlConnection(admin.ConnectionString);
                c.Open();
                using var cmd = new Npgsql.NpgsqlCommand(sql, c);
                cmd.ExecuteNonQuery();
            }
            try
            {
                Admin($"CREATE DATABASE {name};");
            }
            catch (Npgsql.NpgsqlException e)
            {
                throw new CliUsageException($"--postgres: cannot create a database: {e.Message}");
            }
            try
            {
                report["postgres"] = ApiLoadOn(new Npgsql.NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = name }.ConnectionString, fleet, tree, clients, warmup, seconds);
            }
            finally
            {
                Npgsql.NpgsqlConnection.ClearAllPools();
                Admin($"DROP DATABASE IF EXISTS {name} WITH (FORCE);");
            }
        }
        if (sbatch)
        {
            var slurm = SbatchLoad(clients, warmup, seconds);
            report["sbatch"] = slurm;
            var rate = slurm["submissionsPerSecond"]!.GetValue<double>();
            foreach (var store in new[] { "sqlite", "postgres" })
                if (report[store] is JsonObject r && rate > 0)
                    report[$"{store}RatioToSbatch"] = Math.Round(r["submissionsPerSecond"]!.GetValue<double>() / rate, 2);
        }
        return report;
    }

    // Submissions from concurrent clients against an in-process server on the database, its scheduling loop running.
    private static JsonObject ApiLoadOn(string database, GpuFleet.Core.Fleets.Fleet fleet, GpuFleet.Core.Tenancy.TenantTree tree, int clients, double warmup, double seconds)
    {
        const string token = "bench-admin";
        var app = GpuFleet.Server.Hosting.ServerApp.Build(new GpuFleet.Server.Hosting.ServerSettings
        {
            Fleet = fleet, Scheduling = new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree }, Database = database, TimeScale = 1000, AdminToken = token,
            RequestsPerMinutePerToken = int.MaxValue,
        }, ["--urls", "http://127.0.0.1:0"], b => b.Logging.ClearProviders());
        app.StartAsync().GetAwaiter().GetResult();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var projects = tree.Leaves.Select(t => t.Name).ToArray();
            var pauseBefore = GC.GetTotalPauseDuration();
            var gen2Before = GC.CollectionCount(2);
            var report = ClosedLoopLoad.Run(clients, warmup, seconds, async (_, rng) =>
            {
                var body = new { tenant = projects[rng.Next(projects.Length)], gpus = 1 << rng.Next(6), timeLimitSeconds = 3600, runtimeSeconds = 60 + rng.Next(3000) };
                using var response = await http.PostAsJsonAsync("/api/v1/jobs", body);
                return response.StatusCode == System.Net.HttpStatusCode.Created;
            });
            var scheduler = app.Services.GetRequiredService<GpuFleet.Server.Hosting.LiveScheduler>();
            report["schedulerCycles"] = scheduler.Cycles;
            report["schedulerBusySeconds"] = Math.Round(scheduler.BusySeconds, 2);
            // Warm-up included: the whole process (server and clients) stops for these.
            report["gcPauseSeconds"] = Math.Round((GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds, 3);
            report["gen2Collections"] = GC.CollectionCount(2) - gen2Before;
            return report;
        }
        finally
        {
            app.StopAsync().GetAwaiter().GetResult();
        }
    }

    /// <summary>The same load on Slurm: parallel <c>sbatch</c> calls of a one-GPU job, as users submit.</summary>
    /// <remarks>The jobs are named <c>gpufleet-bench-sbatch</c>, write no output file, and are cancelled afterwards; the command returns once Slurm no longer lists them.</remarks>
    private static JsonObject SbatchLoad(int clients, double warmup, double seconds)
    {
        const string name = "gpufleet-bench-sbatch";
        static async Task<(bool Ok, string Output)> Run(string tool, params string[] args)
        {
            var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync();
            await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return (p.ExitCode == 0, output);
        }
        try
        {
            return ClosedLoopLoad.Run(clients, warmup, seconds, async (_, _) =>
                (await Run("sbatch", "--parsable", "-J", name, "-o", "/dev/null", "-t", "60", "--gres=gpu:1", "--wrap", "sleep 3000")).Ok);
        }
        finally
        {
            Run("scancel", "--name", name).GetAwaiter().GetResult();
            // Slurm tears a few thousand cancelled jobs down for a minute or more, busy on the same cores: what
            // runs next (another bench run) would be measured against it. Wait until they are gone (at most 3 minutes).
            var until = Stopwatch.StartNew();
            while (until.Elapsed < TimeSpan.FromMinutes(3)
                && Run("squeue", "-h", "--name", name, "-o", "%i").GetAwaiter().GetResult() is (true, var queued) && queued.Trim().Length > 0)
                Thread.Sleep(1000);
        }
    }

    private static void Print(JsonObject report, string? json)
    {
        var text = report.ToJsonString(SimulateCommand.Json);
        Console.WriteLine(text);
        if (json is not null) SimulateCommand.WriteFile(json, text + "\n");
    }
}
