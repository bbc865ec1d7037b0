using System.Globalization;
using System.IO.Compression;
using System.CommandLine;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Services;
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
        var mixShare = new Option<double>("--mix-share") { Description = "Share of the offered GPU-time drawn from --mix; the rest keeps the fitted model's own sizes (large gangs).", DefaultValueFactory = _ => 1 };
        var services = new Option<int>("--services") { Description = "Also write this many inference services for simulate --services, sized to the fleet, each playing a day's request rate scaled and shifted (docs/services.md).", DefaultValueFactory = _ => 0 };
        var servicesOut = new Option<string?>("--services-out") { Description = "Services file to write (default: the trace's name with .services.yaml); its rate curve goes beside it (.rate.csv)." };
        var servicesShare = new Option<double>("--services-share") { Description = "Share of the fleet's GPUs the services want together at their peaks.", DefaultValueFactory = _ => 0.05 };
        var rates = new Option<string?>("--rates") { Description = "Rate curve the services play: seconds,requestsPerSecond, or the Alibaba GenAI trace's qps.csv[.gz] (default: its day built in)." };
        var generate = new Command("generate", "Write a synthetic trace in the native format, scaled to a fleet and load.") { fleet, days, load, seed, output, model, tenants, mix, mixShare, services, servicesOut, servicesShare, rates };
        generate.SetAction(r => CliRunner.Guard(() =>
            Generate(r.GetValue(fleet)!, r.GetValue(days), r.GetValue(load), r.GetValue(seed), r.GetValue(output)!, r.GetValue(model), r.GetValue(tenants), r.GetValue(mix), r.GetValue(mixShare),
                new ServiceRequest(r.GetValue(services), r.GetValue(servicesOut), r.GetValue(servicesShare), r.GetValue(rates)))));

        var philly = new Option<string>("--philly") { Description = "Philly trace (philly.csv or .gz).", Required = true };
        var kalos = new Option<string>("--kalos") { Description = "Converted Kalos trace CSV.", Required = true };
        var share = new Option<double>("--philly-share") { Description = "Share of generated GPU-time from Philly-like jobs; the rest is Kalos-like LLM gangs.", DefaultValueFactory = _ => 0.1 };
        var fitOut = new Option<string>("--out") { Description = "Output model JSON.", Required = true };
        var fit = new Command("fit", "Fit a workload model to the Philly and Kalos traces.") { philly, kalos, share, fitOut };
        fit.SetAction(r => CliRunner.Guard(() => Fit(r.GetValue(philly)!, r.GetValue(kalos)!, r.GetValue(share), r.GetValue(fitOut)!)));
        return new Command("workload", "Synthetic workloads fitted to public traces.") { generate, fit };
    }

    /// <summary>Most jobs (expected) a generated workload may have: about 3 GB of memory to draw and write.</summary>
    private const double MaxJobs = 10_000_000;

    /// <summary>What <c>--services</c> and the flags beside it ask for.</summary>
    private sealed record ServiceRequest(int Count, string? Out, double Share, string? Rates);

    private static int Generate(string fleetPath, double days, double load, int seed, string output, string? modelPath, string? tenantsPath, string? mixName,
        double mixShare, ServiceRequest services)
    {
        var mix = mixName is null ? null : RequestMix.Find(mixName) ?? throw new CliUsageException($"--mix: unknown mix '{mixName}' (known: {RequestMix.Pai2020.Name})");
        if (!(days > 0) || days > 3_650) throw new CliUsageException("--days must be between 0 and 3650");
        if (!(load > 0) || load > 10) throw new CliUsageException("--load must be between 0 and 10");
        if (!(mixShare > 0) || mixShare > 1) throw new CliUsageException("--mix-share must be above 0 and at most 1");
        if (mixShare < 1 && mix is null) throw new CliUsageException("--mix-share needs --mix (the mix its share is drawn from)");
        if (services.Count is < 0 or > 1_000) throw new CliUsageException("--services must be between 0 and 1000");
        if (!(services.Share > 0) || services.Share > 1) throw new CliUsageException("--services-share must be above 0 and at most 1");
        if (services.Count == 0 && (services.Out is not null || services.Rates is not null))
            throw new CliUsageException($"{(services.Out is not null ? "--services-out" : "--rates")} needs --services N (how many services to write)");
        var fleet = FleetFile.Load(fleetPath);
        var model = modelPath is null ? WorkloadModel.Default : WorkloadModel.Load(modelPath);
        var tree = SimulateCommand.LoadTenants(tenantsPath, fleet, []);
        if (mix is not null && !fleet.HasSharing) throw new CliUsageException($"--mix: fleet {fleet.Name} has no GPU model that may be shared (a model's sharing: section), so its fractional jobs could never run");
        // Refused before drawing: tens of millions of jobs would take more memory than a machine has, and no run could take them.
        var expected = WorkloadGenerator.ExpectedJobs(model, fleet, days, load, mix, mixShare);
        if (expected > MaxJobs)
            throw new CliUsageException($"this workload would have about {expected:N0} jobs, more than {MaxJobs:N0}: lower --days or --load{(mix is null ? "" : ", or draw less of it from the mix with --mix-share")}");
        var jobs = mix is null ? WorkloadGenerator.Generate(model, fleet, days, load, seed, tree) : WorkloadGenerator.Generate(model, fleet, days, load, seed, tree, mix, mixShare);
        var dir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (dir is not null) Directory.CreateDirectory(dir);
        // A name ending in .gz gets gzip, as every trace reader expects of such a name.
        using (var file = File.Create(output))
        using (var stream = output.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : (Stream)file)
        using (var writer = new StreamWriter(stream))
            NativeTrace.Write(writer, jobs);
        var gpuHours = jobs.Sum(j => (double)j.RuntimeSeconds * j.Spec.StatedGpus) / 3600;
        Console.WriteLine($"{jobs.Count:N0} jobs, {gpuHours:N0} GPU-hours offered ({gpuHours / (fleet.TotalGpus * days * 24):P1} of {fleet.Name}'s capacity over {days} days) -> {output}");
        if (services.Count > 0) WriteServices(fleetPath, tenantsPath, fleet, tree, days, seed, output, services);
        return 0;
    }

    // The services file and, beside it, the curve its services play (so that the two travel together).
    private static void WriteServices(string fleetPath, string? tenantsPath, Fleet fleet, TenantTree? tree, double days, int seed, string output, ServiceRequest request)
    {
        var curve = request.Rates is null ? ServiceFile.GenAiDay() : ServiceFile.ReadCsv(request.Rates);
        if (!curve.Any(p => p.RequestsPerSecond > 0)) throw new CliUsageException($"--rates: {request.Rates} has no rate above 0");
        var generated = ServiceGenerator.Generate(fleet, tree, request.Count, request.Share, seed, curve);
        var path = request.Out ?? Stem(output) + ".services.yaml";
        var curvePath = Stem(path) + ".rate.csv";
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        // A day's curve is played every day, from before the run starts (a service's day is shifted back by up to a
        // day) to its end; a longer curve is played once.
        var daily = curve[^1].Seconds - curve[0].Seconds < ServiceFileWriter.Day;
        var until = (long)Math.Ceiling(days) * ServiceFileWriter.Day + ServiceFileWriter.Day;
        var source = request.Rates is null ? "a day of the Alibaba GenAI trace, traces/README.md in GpuFleet's repository" : Path.GetFileName(request.Rates);
        using (var writer = new StreamWriter(curvePath))
            ServiceFileWriter.WriteCurve(writer, curve, [$"Request rate played by the services of {Path.GetFileName(path)}: {source}."]);
        using (var writer = new StreamWriter(path))
            ServiceFileWriter.Write(writer, $"{fleet.Name}-services", generated, Path.GetFileName(curvePath), daily, until,
            [
                $"{request.Count} inference services on {fleet.Name} beside the trace {Path.GetFileName(output)} (gpufleet workload generate --seed {seed}):",
                $"  gpufleet simulate --fleet {fleetPath}{(tenantsPath is null ? "" : $" --tenants {tenantsPath}")} --trace {output} --services {path}",
                $"Each plays {Path.GetFileName(curvePath)} ({source}),",
                $"scaled so that together they want about {request.Share.ToString("P1", CultureInfo.InvariantCulture)} of the fleet's GPUs at their peaks, and shifted back by whole",
                "10-minute steps. Shapes, per-replica rates and sizes are assumptions (docs/services.md#generated-services).",
            ]);
        Console.WriteLine($"{request.Count} services (about {generated.Sum(g => g.PeakGpus):N0} GPU-equivalents at their peaks) -> {path}; their rate curve -> {curvePath}");
    }

    // The path without its trace or YAML extension: week.csv.gz -> week.
    private static string Stem(string path)
    {
        foreach (var ext in new[] { ".gz", ".csv", ".yaml", ".yml" })
            if (path.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) path = path[..^ext.Length];
        return path;
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
