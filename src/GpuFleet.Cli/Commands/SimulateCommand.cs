using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data.Fleets;
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
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file.", Required = true };
        var trace = new Option<string>("--trace") { Description = "Trace file: Philly CSV, Kalos CSV or native CSV (plain or .gz).", Required = true };
        var policy = new Option<string>("--policy") { Description = "Policy, or a comma list to compare: fifo, backfill, fairshare.", DefaultValueFactory = _ => "fifo,backfill,fairshare" };
        var json = new Option<string?>("--json") { Description = "Write the report as JSON, keyed by policy." };
        var charts = new Option<string?>("--charts") { Description = "Write SVG charts and time-series CSV files into this directory." };
        var interval = new Option<long>("--sample-seconds") { Description = "Time-series sampling interval.", DefaultValueFactory = _ => 3_600 };
        var tenants = TenantsOption();
        var scheduling = new SchedulerFlags();
        var command = new Command("simulate", "Replay a trace on a fleet (the digital twin) and compare policies side by side.")
        {
            fleet, trace, policy, json, charts, interval, tenants,
        };
        foreach (var flag in scheduling.All) command.Options.Add(flag);
        command.SetAction(r => CliRunner.Guard(() => Run(
            r.GetValue(fleet)!, r.GetValue(trace)!, r.GetValue(policy)!, r.GetValue(json), r.GetValue(charts),
            r.GetValue(interval), r.GetValue(tenants), scheduling.Read(r))));
        return command;
    }

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
        string? tenantsPath, SchedulerOptions scheduling)
    {
        var policies = ParsePolicies(policyList);
        if (interval < 1) throw new CliUsageException("--sample-seconds must be at least 1");
        var fleet = FleetFile.Load(fleetPath);
        var tree = LoadTenants(tenantsPath, fleet, policies);
        var jobs = TraceFile.Load(tracePath);
        Console.Error.WriteLine($"{jobs.Count:N0} jobs from {tracePath} on {fleet.Name} ({fleet.TotalGpus:N0} GPUs)");

        var results = new List<(SimulationResult Result, double Wall)>();
        foreach (var p in policies)
        {
            var options = scheduling with { Policy = p, Tenants = tree };
            var watch = Stopwatch.StartNew();
            var result = CliRunner.WithProgress($"simulate {p.Name}", progress =>
                Simulator.Run(fleet, jobs, options, new SimulationOptions { TraceName = Path.GetFileName(tracePath), SampleIntervalSeconds = interval, Progress = progress }));
            results.Add((result, watch.Elapsed.TotalSeconds));
        }

        ReportTable.Write(results);
        if (tree.Tenants.Count > 0) ReportTable.WriteTenants(results);
        if (jsonPath is not null)
        {
            var root = new JsonObject();
            foreach (var (result, wall) in results)
            {
                var node = JsonSerializer.SerializeToNode(result.Report, Json)!.AsObject();
                node["wallSeconds"] = Math.Round(wall, 3);
                root[result.Report.Policy] = node;
            }
            WriteFile(jsonPath, root.ToJsonString(Json) + "\n");
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
