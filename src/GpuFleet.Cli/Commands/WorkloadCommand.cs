using System.IO.Compression;
using System.CommandLine;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;
using GpuFleet.Core.Workloads;
using GpuFleet.Data.Workloads;

namespace GpuFleet.Cli.Commands;

/// <summary><c>gpufleet workload generate|fit</c>: synthetic traces fitted to real ones.</summary>
internal static class WorkloadCommand
{
    public static Command Create()
    {
        var fleet = new Option<string>("--fleet") { Description = "Fleet YAML file the workload is scaled to.", Required = true };
        var days = new Option<double>("--days") { Description = "Length of the workload in days.", Required = true };
        var load = new Option<double>("--load") { Description = "Offered GPU-time over fleet capacity, e.g. 0.9.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed: same seed, same workload.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Output file (native trace CSV).", Required = true };
        var model = new Option<string?>("--model") { Description = "Fitted workload model JSON (default: the built-in Philly + Kalos fit)." };
        var tenants = SimulateCommand.TenantsOption();
        var mix = new Option<string?>("--mix") { Description = "Draw each job's request from a mix: pai-2020 (fractions of GPUs, CPU and memory, fitted to Alibaba PAI 2020)." };
        var generate = new Command("generate", "Write a synthetic trace in the native format, scaled to a fleet and load.") { fleet, days, load, seed, output, model, tenants, mix };
        generate.SetAction(r => CliRunner.Guard(() =>
            Generate(r.GetValue(fleet)!, r.GetValue(days), r.GetValue(load), r.GetValue(seed), r.GetValue(output)!, r.GetValue(model), r.GetValue(tenants), r.GetValue(mix))));

        var philly = new Option<string>("--philly") { Description = "Philly trace (philly.csv or .gz).", Required = true };
        var kalos = new Option<string>("--kalos") { Description = "Converted Kalos trace CSV.", Required = true };
        var share = new Option<double>("--philly-share") { Description = "Share of generated GPU-time from Philly-like jobs; the rest is Kalos-like LLM gangs.", DefaultValueFactory = _ => 0.1 };
        var fitOut = new Option<string>("--out") { Description = "Output model JSON.", Required = true };
        var fit = new Command("fit", "Fit a workload model to the Philly and Kalos traces.") { philly, kalos, share, fitOut };
        fit.SetAction(r => CliRunner.Guard(() => Fit(r.GetValue(philly)!, r.GetValue(kalos)!, r.GetValue(share), r.GetValue(fitOut)!)));
        return new Command("workload", "Synthetic workloads fitted to public traces.") { generate, fit };
    }

    private static int Generate(string fleetPath, double days, double load, int seed, string output, string? modelPath, string? tenantsPath, string? mixName)
    {
        var mix = mixName is null ? null : RequestMix.Find(mixName) ?? throw new CliUsageException($"--mix: unknown mix '{mixName}' (known: {RequestMix.Pai2020.Name})");
        if (!(days > 0) || days > 3_650) throw new CliUsageException("--days must be between 0 and 3650");
        if (!(load > 0) || load > 10) throw new CliUsageException("--load must be between 0 and 10");
        var fleet = FleetFile.Load(fleetPath);
        var model = modelPath is null ? WorkloadModel.Default : WorkloadModel.Load(modelPath);
        var tree = SimulateCommand.LoadTenants(tenantsPath, fleet, []);
        if (mix is not null && !fleet.HasSharing) throw new CliUsageException($"--mix: fleet {fleet.Name} has no GPU model that may be shared (a model's sharing: section), so its fractional jobs could never run");
        var jobs = mix is null ? WorkloadGenerator.Generate(model, fleet, days, load, seed, tree) : WorkloadGenerator.Generate(model, fleet, days, load, seed, tree, mix);
        var dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (dir is not null) Directory.CreateDirectory(dir);
        // A name ending in .gz gets gzip, as every trace reader expects of such a name.
        using (var file = File.Create(output))
        using (var stream = output.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : (Stream)file)
        using (var writer = new StreamWriter(stream))
            NativeTrace.Write(writer, jobs);
        var gpuHours = jobs.Sum(j => (double)j.RuntimeSeconds * j.Spec.StatedGpus) / 3600;
        Console.WriteLine($"{jobs.Count:N0} jobs, {gpuHours:N0} GPU-hours offered ({gpuHours / (fleet.TotalGpus * days * 24):P1} of {fleet.Name}'s capacity over {days} days) -> {output}");
        return 0;
    }

    private static int Fit(string phillyPath, string kalosPath, double phillyShare, string output)
    {
        if (phillyShare is < 0 or > 1) throw new CliUsageException("--philly-share must be between 0 and 1");
        var model = new WorkloadModel(
        [
            WorkloadFitter.Fit("philly", "Microsoft Philly trace 2017 (msr-fiddle/philly-traces, CC BY 4.0), Pollux reduction", phillyShare, PhillyTraceReader.Read(phillyPath)),
            WorkloadFitter.Fit("kalos", "Shanghai AI Lab Acme Kalos 2023 (InternLM/AcmeTrace, CC BY 4.0), converted subset", 1 - phillyShare, KalosTraceReader.Read(kalosPath)),
        ]);
        model.Save(output);
        Console.WriteLine($"model -> {output}");
        return 0;
    }
}
