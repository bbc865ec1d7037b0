using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Data.Fleets;
using GpuFleet.Simulation.Benchmarking;
using Spectre.Console;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// <c>gpufleet bench saturation</c>: requests from a mix arrive and never end (a request that cannot be placed
/// is dropped) until they add up to the fleet's capacity (<see cref="SaturationExperiment"/>); per packing choice,
/// and with slices off, the share of GPU capacity then unallocated (and when the first request was refused),
/// and what fractional jobs held with slices against rounded up. Means over seeds.
/// </summary>
internal static class SaturationBench
{
    // About four fleets' worth of requests on the shipped mixed-nodes fleet: enough that every kind of request in
    // the mix has been seen in about its share.
    private const int DefaultHistory = 1000;

    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file (nodes of mixed sizes; models that may be shared).", DefaultValueFactory = _ => "fleets/mixed-nodes.yaml" };
        var mix = new Option<string>("--mix") { Description = "Request mix: pai-2020 (fitted to Alibaba PAI 2020's published figures).", DefaultValueFactory = _ => "pai-2020" };
        var seeds = new Option<int>("--seeds") { Description = "Draws of requests; each packing runs every draw.", DefaultValueFactory = _ => 10 };
        var history = new Option<int>("--history")
        {
            Description = "Requests of the same mix the scheduler has seen before each draw (a scheduler in service knows its workload; 0: none).",
            DefaultValueFactory = _ => DefaultHistory,
        };
        var json = new Option<string?>("--json") { Description = "Write results as JSON." };
        var command = new Command("saturation", "Capacity left unallocated when a fleet first refuses a job, per slice packing and with slices off.") { fleet, mix, seeds, history, json };
        command.SetAction(r => CliRunner.Guard(() => Run(r.GetValue(fleet)!, r.GetValue(mix)!, r.GetValue(seeds), r.GetValue(history), r.GetValue(json))));
        return command;
    }

    private static int Run(string fleetPath, string mixName, int seeds, int history, string? json)
    {
        if (seeds < 1) throw new CliUsageException("--seeds must be at least 1");
        if (history < 0) throw new CliUsageException("--history must be 0 or more");
        var mix = RequestMix.Find(mixName) ?? throw new CliUsageException($"--mix: unknown mix '{mixName}' (known: {RequestMix.Pai2020.Name})");
        var fleet = FleetFile.Load(fleetPath);
        if (!fleet.HasSharing) throw new CliUsageException($"--fleet: {fleetPath} has no GPU model that may be shared (a model's sharing: section)");
        var runs = new List<(string Name, SlicePacking Packing, bool Slices)>
        {
            ("best-fit", SlicePacking.BestFit, true),
            ("worst-fit", SlicePacking.WorstFit, true),
            ("fragmentation-aware", SlicePacking.FragmentationAware, true),
            ("slices off (rounded up)", SlicePacking.BestFit, false),
        };
        var results = runs.Select(r => (r.Name, Results: Enumerable.Range(1, seeds).Select(s => SaturationExperiment.Run(fleet, mix, r.Packing, r.Slices, s, history)).ToList())).ToList();
        var rounded = results[^1].Results;
        var table = new Table().Title($"Saturation on {Markup.Escape(fleet.Name)} ({fleet.TotalGpus:N0} GPUs), mix {mix.Name}, {seeds} draws, {history:N0} requests seen before");
        table.AddColumn("packing");
        table.AddColumn(new TableColumn("unallocated at capacity").RightAligned());
        table.AddColumn(new TableColumn("min – max").RightAligned());
        table.AddColumn(new TableColumn("at first refusal").RightAligned());
        table.AddColumn(new TableColumn("fragmentation of free").RightAligned());
        table.AddColumn(new TableColumn("jobs placed").RightAligned());
        table.AddColumn(new TableColumn("fractional jobs: GPU-eq. held vs rounded up").RightAligned());
        var output = new JsonArray();
        foreach (var (name, list) in results)
        {
            var unallocated = list.Select(r => r.UnallocatedShare).ToList();
            var cut = list[0].Slices ? list.Zip(rounded, SaturationExperiment.FractionalCut).Average() : 0;
            table.AddRow(name, Pct(unallocated.Average()), $"{Pct(unallocated.Min())} – {Pct(unallocated.Max())}", Pct(list.Average(r => r.UnallocatedAtFirstRefusal)),
                Pct(list.Average(r => r.FragmentedShare)),
                list.Average(r => r.JobsPlaced).ToString("N0", CultureInfo.InvariantCulture), list[0].Slices ? $"−{Pct(cut)}" : "—");
            output.Add(new JsonObject
            {
                ["packing"] = name,
                ["slices"] = list[0].Slices,
                ["unallocatedShareMean"] = Math.Round(unallocated.Average(), 4),
                ["unallocatedShareMin"] = Math.Round(unallocated.Min(), 4),
                ["unallocatedShareMax"] = Math.Round(unallocated.Max(), 4),
                ["unallocatedAtFirstRefusalMean"] = Math.Round(list.Average(r => r.UnallocatedAtFirstRefusal), 4),
                ["fragmentedShareMean"] = Math.Round(list.Average(r => r.FragmentedShare), 4),
                ["jobsPlacedMean"] = Math.Round(list.Average(r => r.JobsPlaced), 1),
                ["fractionalHeldCutVsRoundedUp"] = list[0].Slices ? Math.Round(cut, 4) : null,
                ["strandedGpusMean"] = Math.Round(list.Average(r => r.StrandedGpus), 1),
            });
        }
        AnsiConsole.Write(table);
        var bestFit = results[0].Results.Average(r => r.UnallocatedShare);
        var aware = results[2].Results.Average(r => r.UnallocatedShare);
        var bestFitFirst = results[0].Results.Average(r => r.UnallocatedAtFirstRefusal);
        var awareFirst = results[2].Results.Average(r => r.UnallocatedAtFirstRefusal);
        Console.WriteLine(FormattableString.Invariant($"fragmentation-aware / best-fit unallocated: {Ratio(aware, bestFit):F2} at capacity, {Ratio(awareFirst, bestFitFirst):F2} at first refusal"));
        if (json is not null)
            File.WriteAllText(json, new JsonObject { ["fleet"] = fleet.Name, ["gpus"] = fleet.TotalGpus, ["mix"] = mix.Name, ["seeds"] = seeds, ["history"] = history, ["runs"] = output }
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    private static double Ratio(double a, double b) => b > 0 ? a / b : 0;

    private static string Pct(double share) => (share * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
