using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data.Failures;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Services;
using GpuFleet.Data.Tenancy;
using GpuFleet.Data.Traces;
using GpuFleet.Simulation.Charts;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;
using Spectre.Console;

namespace GpuFleet.Cli.Commands;

/// <summary><c>gpufleet simulate</c>: replays a trace on a fleet under one or more policies and compares them.</summary>
internal static class SimulateCommand
{
    internal static JsonSerializerOptions Json => PolicyReportJson.Options;

    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", Required = true };
        var trace = new Option<string>("--trace") { Description = "Trace file: Philly CSV, Kalos CSV or native CSV (plain or .gz).", Required = true };
        var policy = new Option<string>("--policy") { Description = "Policy, or a comma list to compare: fifo, backfill, fairshare.", DefaultValueFactory = _ => "fifo,backfill,fairshare" };
        var json = new Option<string?>("--json") { Description = "Write the report as JSON, keyed by policy." };
        var charts = new Option<string?>("--charts") { Description = "Write SVG charts and time-series CSV files into this directory." };
        var interval = new Option<long>("--sample-seconds") { Description = "Time-series sampling interval.", DefaultValueFactory = _ => 3_600 };
        var tenants = TenantsOption();
        var failures = new Option<string?>("--failures") { Description = "Node and site outages: a CSV file of at,target,duration lines (docs/failure-format.md)." };
        var mtbf = new Option<double?>("--node-mtbf") { Description = "Random node failures: mean hours each node runs between a repair and its next failure (exponential)." };
        var repair = new Option<double?>("--node-repair") { Description = "Hours a node that failed at random stays down (a fixed time, not a mean); needed with --node-mtbf." };
        var failureSeed = new Option<long?>("--failure-seed") { Description = "Seed of the random node failures (default 1): the same seed gives the same failures, whatever the policy." };
        var launchLatency = new Option<double>("--launch-latency")
        {
            Description = "Seconds from a placement to the job's start on a real cluster (mean; GPUs are held meanwhile), as `gpufleet bench slurm` measures it.",
        };
        var releaseLatency = new Option<double>("--release-latency")
        {
            Description = "Seconds from a job's end to its GPUs taking new work (mean: the executor's polling and the scheduling loop).",
        };
        var services = new Option<string?>("--services")
        {
            Description = "Inference services run beside the trace: a YAML file of services with their request-rate curves (docs/services.md).",
        };
        var scheduling = new SchedulerFlags();
        var command = new Command("simulate", "Replay a trace on a fleet (the digital twin) and compare policies side by side.")
        {
            fleet, trace, policy, json, charts, interval, tenants, failures, mtbf, repair, failureSeed, launchLatency, releaseLatency, services,
        };
        foreach (var flag in scheduling.All) command.Options.Add(flag);
        command.SetAction(r => CliRunner.Guard(() => Run(
            r.GetValue(fleet)!, r.GetValue(trace)!, r.GetValue(policy)!, r.GetValue(json), r.GetValue(charts),
            r.GetValue(interval), r.GetValue(tenants), scheduling.Read(r),
            r.GetValue(failures), FailureRate(r.GetValue(mtbf), r.GetValue(repair), r.GetValue(failureSeed)),
            Latency("--launch-latency", r.GetValue(launchLatency)), Latency("--release-latency", r.GetValue(releaseLatency)), r.GetValue(services))));
        return command;
    }

    /// <summary>The random node failures of <c>--node-mtbf</c>, <c>--node-repair</c> and <c>--failure-seed</c>; null when none are asked for.</summary>
    internal static NodeFailureRate? FailureRate(double? mtbfHours, double? repairHours, long? seed)
    {
        if (mtbfHours is null)
        {
            if (repairHours is not null) throw new CliUsageException("--node-repair: give --node-mtbf too (the repair time of random node failures)");
            if (seed is not null) throw new CliUsageException("--failure-seed: give --node-mtbf too (the seed of random node failures)");
            return null;
        }
        if (!(mtbfHours > 0) || !double.IsFinite(mtbfHours.Value))
            throw new CliUsageException($"--node-mtbf must be a positive number of hours, not {mtbfHours.Value.ToString(CultureInfo.InvariantCulture)}");
        if (repairHours is not { } repair) throw new CliUsageException("--node-repair: give the hours a failed node stays down, with --node-mtbf");
        if (!(repair > 0) || !double.IsFinite(repair))
            throw new CliUsageException($"--node-repair must be a positive number of hours, not {repair.ToString(CultureInfo.InvariantCulture)}");
        return new NodeFailureRate(mtbfHours.Value, repair, seed ?? 1);
    }

    /// <summary>A latency option's seconds, checked: 0 or more.</summary>
    internal static double Latency(string option, double seconds) =>
        seconds >= 0 && double.IsFinite(seconds) ? seconds
            : throw new CliUsageException($"{option} must be 0 or more seconds, not {seconds.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The outages of a failures file, one per node (a site's line takes each of its nodes).</summary>
    internal static IReadOnlyList<NodeFailure> LoadFailures(string path, Fleet fleet) =>
        [.. FailureFile.Load(path, fleet).SelectMany(e => e.Nodes.Select(node => new NodeFailure(e.AtSeconds, node, e.DurationSeconds)))];

    internal static Option<string?> TenantsOption() => new("--tenants")
    {
        Description = "Tenant tree YAML: owners, tenants, guarantees, limits, grants, priority classes (needed by static and shared).",
    };

    /// <summary>The tenant tree of <c>--tenants</c>, checked against the fleet; the empty tree when none is given unless a policy needs one.</summary>
    internal static TenantTree LoadTenants(string? path, Fleet fleet, IEnumerable<SchedulingPolicy> policies)
    {
        var needing = policies.FirstOrDefault(p => p.Quotas != QuotaMode.None);
        if (path is null)
        {
            if (needing is not null) throw new CliUsageException($"--tenants: policy '{needing.Name}' needs a tenant tree (e.g. tenants/philly-vcs.yaml)");
            return TenantTree.Empty;
        }
        return TenantFile.Load(path, fleet);
    }

    private static int Run(string fleetPath, string tracePath, string policyList, string? jsonPath, string? chartsDir, long interval,
        string? tenantsPath, SchedulerOptions scheduling, string? failuresPath, NodeFailureRate? failureRate, double launchLatency, double releaseLatency,
        string? servicesPath)
    {
        var policies = ParsePolicies(policyList);
        if (interval < 1) throw new CliUsageException("--sample-seconds must be at least 1");
        var fleet = FleetFile.Load(fleetPath);
        var tree = LoadTenants(tenantsPath, fleet, policies);
        var failures = failuresPath is null ? [] : LoadFailures(failuresPath, fleet);
        var services = servicesPath is null ? [] : ServiceFile.Load(servicesPath, fleet);
        var jobs = TraceFile.Load(tracePath);
        Console.Error.WriteLine($"{jobs.Count:N0} jobs from {tracePath} on {fleet.Name} ({fleet.TotalGpus:N0} GPUs)");
        if (failuresPath is not null) Console.Error.WriteLine($"{failures.Count:N0} node outages from {failuresPath}");
        if (servicesPath is not null) Console.Error.WriteLine($"{services.Count:N0} inference services from {servicesPath}");
        if (failureRate is not null)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"random node failures: {failureRate.MtbfHours:G} h mean between failures per node, {failureRate.RepairHours:G} h to repair, seed {failureRate.Seed}"));

        var results = new List<(SimulationResult Result, double Wall)>();
        foreach (var p in policies)
        {
            var options = scheduling with { Policy = p, Tenants = tree };
            var watch = Stopwatch.StartNew();
            SimulationResult result;
            try
            {
                result = CliRunner.WithProgress($"simulate {p.Name}", progress =>
                    Simulator.Run(fleet, jobs, options, new SimulationOptions
                    {
                        TraceName = Path.GetFileName(tracePath), SampleIntervalSeconds = interval, Progress = progress, Failures = failures, FailureRate = failureRate,
                        LaunchLatencySeconds = launchLatency, ReleaseLatencySeconds = releaseLatency, Services = services,
                    }));
            }
            catch (ServiceValidationException e)
            {
                throw new CliUsageException($"--services {servicesPath}: {e.Message}");
            }
            catch (ArgumentException e) when (servicesPath is not null && e.ParamName == "jobs")
            {
                // A trace job whose id is in the replicas' range.
                throw new CliUsageException($"--trace {tracePath}: {e.Message.Replace(" (Parameter 'jobs')", "", StringComparison.Ordinal)}");
            }
            results.Add((result, watch.Elapsed.TotalSeconds));
        }

        ReportTable.Write(results);
        if (tree.Tenants.Count > 0) ReportTable.WriteTenants(results);
        if (services.Count > 0) WriteServices(results);
        if (jsonPath is not null)
        {
            WriteFile(jsonPath, PolicyReportJson.Write(results));
            Console.Error.WriteLine($"report: {jsonPath}");
        }
        if (chartsDir is not null)
        {
            var written = PolicyCharts.Write(chartsDir, [.. results.Select(r => r.Result)], fleet.Sites.Sum(s => s.PowerCapMw)).ToList();
            foreach (var (result, _) in results)
            {
                var csv = Path.Combine(chartsDir, $"timeseries-{result.Report.Policy}.csv");
                using (var writer = new StreamWriter(csv)) TimeSeriesCsv.Write(writer, result);
                written.Add(csv);
            }
            Console.Error.WriteLine($"charts: {string.Join(", ", written)}");
        }
        return 0;
    }

    /// <summary>Each service's figures under each policy: wanted replicas met, requests served, scale-up latency, edge and spill.</summary>
    private static void WriteServices(IReadOnlyList<(SimulationResult Result, double Wall)> results)
    {
        var table = new Table().AddColumns("policy", "service", "met", "served", "unserved req", "replicas min/mean/max", "scale-up p50/p99 s", "at edge", "spilled");
        foreach (var (result, _) in results)
            foreach (var s in result.Report.Services ?? [])
                table.AddRow(result.Report.Policy, Markup.Escape(s.Service), $"{s.ShareMet:P1}", $"{s.ServedShare:P1}", $"{s.UnservedRequests:N0}",
                    string.Create(CultureInfo.InvariantCulture, $"{s.MinReplicas}/{s.MeanReplicas:F1}/{s.MaxReplicas}"),
                    string.Create(CultureInfo.InvariantCulture, $"{s.ScaleUpP50Seconds:F0}/{s.ScaleUpP99Seconds:F0}"),
                    s.ServedAtEdge is { } edge ? $"{edge:N0}" : "-", s.ServedSpilled is { } spilled ? $"{spilled:N0}" : "-");
        AnsiConsole.Write(table);
    }

    internal static List<SchedulingPolicy> ParsePolicies(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new CliUsageException("--policy: give at least one policy");
        var result = new List<SchedulingPolicy>();
        foreach (var name in names)
        {
            var p = SchedulingPolicy.Find(name) ?? throw new CliUsageException($"--policy: unknown policy '{name}' (known: {string.Join(", ", SchedulingPolicy.All.Select(x => x.Name))})");
            if (!result.Contains(p)) result.Add(p);
        }
        return result;
    }

    internal static void WriteFile(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, text);
    }
}
