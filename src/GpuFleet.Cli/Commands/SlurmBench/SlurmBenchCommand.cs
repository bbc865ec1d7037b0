using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Engine;
using Spectre.Console;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// <c>gpufleet bench slurm</c>: the same seeded job set on the same Slurm cluster, one variant after another,
/// each from an idle cluster — Slurm alone with its default scheduler settings, Slurm alone tuned, GpuFleet
/// placing on Slurm — and the twin's prediction of GpuFleet's run, with the latencies that run measured.
/// </summary>
/// <remarks>
/// Slurm's scheduler settings are switched by rewriting the SchedulerParameters line of the cluster's
/// slurm.conf and <c>scontrol reconfigure</c> (<see cref="SchedulerParametersSwitch"/>); the file is put back
/// as it was at the end, whatever happened. The tuned variant runs first: slurmctld's backfill thread takes a
/// new interval only after sleeping out its old one (30 s by default), so a short job that backfill alone can
/// start (a heterogeneous one) is submitted first and waited for, to know that the tuned settings are in force.
/// GpuFleet then runs on the same tuned settings (<c>--gpufleet-on default</c> for Slurm's defaults), and Slurm's
/// defaults come last.
/// </remarks>
internal static class SlurmBenchCommand
{
    /// <summary>The tuned backfill measured in ../shared/research/slurm-local.md.</summary>
    public const string TunedParameters = "default_queue_depth=1000,batch_sched_delay=0,bf_interval=1,bf_continue,bf_max_job_test=2000";

    private static readonly string[] Variants = ["slurm-default", "slurm-tuned", "gpufleet"];

    public static Command Create()
    {
        var jobs = new Option<int>("--jobs") { Description = "Jobs in the set.", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Seed of the job set.", DefaultValueFactory = _ => 1 };
        var conf = new Option<string?>("--slurm-conf") { Description = "The cluster's slurm.conf (default: $SLURM_CONF). It must be writable: the bench switches SchedulerParameters in it and puts it back." };
        var runtimeMin = new Option<int>("--runtime-min") { Description = "Shortest run time, seconds.", DefaultValueFactory = _ => 5 };
        var runtimeMax = new Option<int>("--runtime-max") { Description = "Longest run time, seconds.", DefaultValueFactory = _ => 40 };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON." };
        var csv = new Option<string?>("--csv") { Description = "Write each job's run in each variant as CSV: seconds from the variant's first submission to its submission, start, end, and GpuFleet's placement and learning of the end; its nodes." };
        var nodes = new Option<string?>("--nodes") { Description = "The cluster's nodes to use, a Slurm host list such as n[09-12] (default: every node with GPUs of the partition)." };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition (default: the cluster's default)." };
        var policy = new Option<string>("--policy") { Description = "GpuFleet's (and the twin's) policy.", DefaultValueFactory = _ => "backfill" };
        var poll = new Option<int>("--poll-seconds") { Description = "GpuFleet executor: seconds between looks at Slurm.", DefaultValueFactory = _ => 1 };
        var cycle = new Option<double>("--cycle-seconds") { Description = "GpuFleet server: seconds between scheduling cycles (the server's default is 1; `serve` has no flag for it).", DefaultValueFactory = _ => 1 };
        var inventory = new Option<int>("--inventory-seconds") { Description = "GpuFleet executor: seconds between inventories of the nodes.", DefaultValueFactory = _ => 5 };
        var variants = new Option<string>("--variants") { Description = "Which to run, a comma list of slurm-default, slurm-tuned, gpufleet (the twin comes with gpufleet).", DefaultValueFactory = _ => string.Join(',', Variants) };
        var tuned = new Option<string>("--tuned-parameters") { Description = "SchedulerParameters of the tuned Slurm.", DefaultValueFactory = _ => TunedParameters };
        var gpufleetOn = new Option<string>("--gpufleet-on") { Description = "Slurm's settings while GpuFleet runs: tuned or default.", DefaultValueFactory = _ => "tuned" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds one variant may take before the bench gives up.", DefaultValueFactory = _ => 1_800 };
        var idleTimeout = new Option<int>("--idle-timeout") { Description = "Seconds to wait for the nodes to be idle before each variant (it runs anyway after, and says so).", DefaultValueFactory = _ => 120 };
        var command = new Command("slurm", "GpuFleet over Slurm against Slurm alone on the same cluster and job set, and the twin's prediction of GpuFleet's run.")
        {
            jobs, seed, conf, runtimeMin, runtimeMax, json, csv, nodes, partition, policy, poll, cycle, inventory, variants, tuned, gpufleetOn, timeout, idleTimeout,
        };
        command.SetAction(r => CliRunner.Guard(() =>
        {
            var options = new Options(r.GetValue(jobs), r.GetValue(seed), r.GetValue(conf) ?? Environment.GetEnvironmentVariable("SLURM_CONF"),
                r.GetValue(runtimeMin), r.GetValue(runtimeMax), r.GetValue(json), r.GetValue(csv), r.GetValue(nodes), r.GetValue(partition), r.GetValue(policy)!,
                r.GetValue(poll), r.GetValue(cycle), r.GetValue(inventory), r.GetValue(variants)!, r.GetValue(tuned)!, r.GetValue(gpufleetOn)!, r.GetValue(timeout), r.GetValue(idleTimeout));
            using var stop = new CancellationTokenSource();
            void Interrupt(object? sender, ConsoleCancelEventArgs e)
            {
                // Stop the run, not the process: what it started in Slurm is cancelled and slurm.conf put back on the way out.
                e.Cancel = true;
                stop.Cancel();
            }
            Console.CancelKeyPress += Interrupt;
            try
            {
                return RunAsync(options, stop.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return CliRunner.Fail("interrupted; the bench's jobs were cancelled and slurm.conf put back");
            }
            finally
            {
                Console.CancelKeyPress -= Interrupt;
            }
        }));
        return command;
    }

    private sealed record Options(int Jobs, int Seed, string? Conf, int RuntimeMin, int RuntimeMax, string? Json, string? Csv, string? Nodes, string? Partition, string Policy,
        int PollSeconds, double CycleSeconds, int InventorySeconds, string Variants, string TunedParameters, string GpuFleetOn, int TimeoutSeconds, int IdleTimeoutSeconds);

    private static async Task<int> RunAsync(Options o, CancellationToken cancel)
    {
        if (o.Jobs < 1) throw new CliUsageException("--jobs must be at least 1");
        if (o.RuntimeMin < 1) throw new CliUsageException("--runtime-min must be at least 1 second");
        if (o.RuntimeMax < o.RuntimeMin) throw new CliUsageException("--runtime-max must be at least --runtime-min");
        if (o.PollSeconds < 1) throw new CliUsageException("--poll-seconds must be at least 1");
        if (!(o.CycleSeconds >= 0.05) || !double.IsFinite(o.CycleSeconds)) throw new CliUsageException("--cycle-seconds must be at least 0.05");
        if (o.InventorySeconds < 1) throw new CliUsageException("--inventory-seconds must be at least 1");
        if (o.TimeoutSeconds < 1) throw new CliUsageException("--timeout must be at least 1 second");
        if (o.IdleTimeoutSeconds < 0) throw new CliUsageException("--idle-timeout must be 0 or more seconds");
        if (o.GpuFleetOn is not ("tuned" or "default")) throw new CliUsageException($"--gpufleet-on must be tuned or default, not '{o.GpuFleetOn}'");
        var chosen = o.Variants.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (chosen.Count == 0 || chosen.FirstOrDefault(v => !Variants.Contains(v)) is { } unknown && unknown.Length > 0)
            throw new CliUsageException($"--variants: give a comma list of {string.Join(", ", Variants)}");
        var policy = SimulateCommand.ParsePolicies(o.Policy).Single();
        if (policy.Quotas != QuotaMode.None) throw new CliUsageException($"--policy: '{policy.Name}' needs a tenant tree; the bench's jobs have one tenant (fifo, backfill or fairshare)");
        if (string.IsNullOrEmpty(o.Conf)) throw new CliUsageException("--slurm-conf: give the cluster's slurm.conf, or set SLURM_CONF (scripts/slurm-local.sh start prints it)");
        if (!File.Exists(o.Conf)) throw new CliUsageException($"--slurm-conf: {o.Conf}: file: not found");

        var cluster = new SlurmCluster(Path.GetFullPath(o.Conf));
        var config = await cluster.ConfigAsync(cancel);
        if (config.GetValueOrDefault("JobCompType") != "jobcomp/filetxt" || config.GetValueOrDefault("JobCompLoc") is not { Length: > 0 } jobComp)
            throw new CliUsageException($"the cluster must record finished jobs with JobCompType=jobcomp/filetxt and a JobCompLoc (it has {config.GetValueOrDefault("JobCompType", "none")}); scripts/slurm-local.sh sets both");
        var setup = await SetupAsync(o, cluster, jobComp, cancel);
        var gpus = setup.Nodes.Sum(n => n.Gpus);
        SlurmBenchSetup.Say($"{setup.Jobs.Count} jobs (seed {o.Seed}, {o.RuntimeMin}-{o.RuntimeMax} s) on {HostList.Compress(setup.Nodes.Select(n => n.Name))}: {gpus} GPUs");

        var results = new Dictionary<string, VariantResult>(StringComparer.Ordinal);
        GpuFleetVariant.Measured? gpufleet = null;
        var executor = new Dictionary<string, string>
        {
            ["slurmConf"] = cluster.Conf,
            ["pollSeconds"] = o.PollSeconds.ToString(CultureInfo.InvariantCulture),
            ["inventorySeconds"] = o.InventorySeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (o.Partition is not null) executor["partition"] = o.Partition;
        var fleet = GpuFleetVariant.FleetOf(setup, executor);
        var scheduling = new SchedulerOptions { Policy = policy };
        var settings = new SchedulerParametersSwitch(cluster);
        try
        {
            if (chosen.Contains("slurm-tuned") || chosen.Contains("gpufleet") && o.GpuFleetOn == "tuned")
            {
                await settings.ApplyAsync(o.TunedParameters, cancel);
                await WaitForBackfillAsync(setup, cancel);
                if (chosen.Contains("slurm-tuned")) results["slurm-tuned"] = await SlurmAloneVariant.RunAsync(setup, "slurm-tuned", o.TunedParameters, cancel);
                if (chosen.Contains("gpufleet") && o.GpuFleetOn == "tuned")
                    gpufleet = await GpuFleetVariant.RunAsync(setup, fleet, scheduling, TimeSpan.FromSeconds(o.CycleSeconds), o.TunedParameters, cancel);
            }
            if (chosen.Contains("slurm-default") || chosen.Contains("gpufleet") && o.GpuFleetOn == "default")
            {
                await settings.ApplyAsync(null, cancel);
                if (chosen.Contains("gpufleet") && o.GpuFleetOn == "default")
                    gpufleet = await GpuFleetVariant.RunAsync(setup, fleet, scheduling, TimeSpan.FromSeconds(o.CycleSeconds), "none (Slurm defaults)", cancel);
                if (chosen.Contains("slurm-default")) results["slurm-default"] = await SlurmAloneVariant.RunAsync(setup, "slurm-default", null, cancel);
            }
        }
        finally
        {
            await settings.RestoreAsync();
        }
        if (gpufleet is not null) results["gpufleet"] = gpufleet.Result;
        var twin = gpufleet is null ? null : Twin(setup, fleet, scheduling, gpufleet);

        var report = Report(o, setup, gpus, results, twin);
        Table(results, twin);
        var text = report.ToJsonString(SimulateCommand.Json);
        if (o.Json is not null) SimulateCommand.WriteFile(o.Json, text + "\n");
        if (o.Csv is not null) SimulateCommand.WriteFile(o.Csv, Csv(setup, results.Values.Append(twin).OfType<VariantResult>()));
        var problems = results.Values.SelectMany(r => r.Problems.Select(p => $"{r.Name}: {p}")).ToList();
        foreach (var p in problems.Take(20)) Console.Error.WriteLine($"problem: {p}");
        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task<SlurmBenchSetup> SetupAsync(Options o, SlurmCluster cluster, string jobComp, CancellationToken cancel)
    {
        var all = (await cluster.NodesAsync(o.Partition, cancel)).Where(n => n.Gpus > 0).ToList();
        if (all.Count == 0) throw new CliUsageException($"the cluster has no node with GPUs (GRES gpu){(o.Partition is null ? "" : $" in partition {o.Partition}")}");
        var byName = all.ToDictionary(n => n.Name, StringComparer.Ordinal);
        List<(string Name, int Gpus, string State)> used;
        if (o.Nodes is null) used = all;
        else
        {
            IReadOnlyList<string> names;
            try
            {
                names = HostList.Expand(o.Nodes);
            }
            catch (FormatException e)
            {
                throw new CliUsageException($"--nodes: {e.Message}");
            }
            used = [.. names.Distinct().Select(n => byName.TryGetValue(n, out var node) ? node : throw new CliUsageException($"--nodes: '{n}' is not a node with GPUs of the cluster{(o.Partition is null ? "" : $"'s partition {o.Partition}")}"))];
        }
        if (used.FirstOrDefault(n => IsOutOfService(n.State)) is { Name: { } down } bad)
            throw new CliUsageException($"node {down} is {bad.State}: the bench needs every node it uses up (scontrol update nodename={down} state=resume)");
        var perNode = used.Min(n => n.Gpus);
        var jobs = SlurmBenchJobSet.Generate(o.Jobs, o.Seed, o.RuntimeMin, o.RuntimeMax, perNode, used.Count);
        var others = all.Select(n => n.Name).Except(used.Select(n => n.Name)).ToList();
        var prefix = $"gfbench-{DateTime.Now:HHmmss}{Random.Shared.Next(0x1000):x3}-";
        return new SlurmBenchSetup(cluster, [.. used.Select(n => (n.Name, n.Gpus))], others, o.Partition, jobComp, jobs, prefix,
            TimeSpan.FromSeconds(o.TimeoutSeconds), TimeSpan.FromSeconds(o.IdleTimeoutSeconds));
    }

    // Down, drained or not responding (sinfo's short states: down*, drain, drng, fail, ...).
    private static bool IsOutOfService(string state) =>
        state.EndsWith('*') || state.StartsWith("down", StringComparison.Ordinal) || state.StartsWith("drain", StringComparison.Ordinal)
        || state.StartsWith("drng", StringComparison.Ordinal) || state.StartsWith("fail", StringComparison.Ordinal) || state.StartsWith("maint", StringComparison.Ordinal);

    // A heterogeneous job of 1 + 1 GPUs starts only from a backfill pass: once it has started, backfill runs on the new settings.
    private static async Task WaitForBackfillAsync(SlurmBenchSetup setup, CancellationToken cancel)
    {
        var name = setup.NamePrefix + "probe";
        var (a, b) = (setup.Nodes[0].Name, setup.Nodes[Math.Min(1, setup.Nodes.Count - 1)].Name);
        List<string> args = ["--parsable", "-J", name, "-o", "/dev/null", "-t", "1"];
        if (setup.Partition is not null) args.AddRange(["-p", setup.Partition]);
        args.AddRange(["-w", a, "--gres=gpu:1", ":", "-w", b, "--gres=gpu:1", "--wrap", "true"]);
        try
        {
            await setup.Cluster.RunAsync("sbatch", args, cancel);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(90))
            {
                var states = (await setup.Cluster.QueueAsync(cancel)).Where(j => j.Name == name).Select(j => j.State).ToList();
                if (states.Count > 0 && states.All(SlurmCluster.IsOver)) return;
                await Task.Delay(250, cancel);
            }
            SlurmBenchSetup.Say("warning: Slurm's backfill did not start a probe job within 90 s of the switch to the tuned settings");
        }
        finally
        {
            await setup.Cluster.CancelAsync(n => n == name, CancellationToken.None);
        }
    }

    private static string Csv(SlurmBenchSetup setup, IEnumerable<VariantResult> variants)
    {
        var text = new System.Text.StringBuilder("variant,index,gpus,runtimeSeconds,timeLimitMinutes,submit,start,end,placed,learned,nodes\n");
        foreach (var v in variants)
        {
            if (v.Timings.Count == 0) continue;
            var first = v.Timings.Min(t => t.Submit);
            string At(DateTimeOffset? t) => t is { } x ? (x - first).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) : "";
            foreach (var t in v.Timings)
            {
                var job = setup.Jobs[t.Index];
                text.Append(CultureInfo.InvariantCulture, $"{v.Name},{t.Index},{job.Gpus},{job.RuntimeSeconds},{job.TimeLimitMinutes},{At(t.Submit)},{At(t.Start)},{At(t.End)},{At(t.Placed)},{At(t.Learned)},\"{t.Nodes}\"\n");
            }
        }
        return text.ToString();
    }

    private static VariantResult Twin(SlurmBenchSetup setup, Fleet fleet, SchedulerOptions scheduling, GpuFleetVariant.Measured measured)
    {
        // The same jobs, submitted at the same whole seconds (relative to the first), on the same fleet and policy.
        var first = measured.Submitted.Values.Min().ToUnixTimeSeconds();
        var trace = setup.Jobs.Select(j => new TraceJob(
            new JobSpec(j.Index + 1, "bench", j.Gpus, [], TopologyNeed.Site, j.TimeLimitMinutes * 60L, 0, measured.Submitted[j.Index].ToUnixTimeSeconds() - first),
            j.RuntimeSeconds)).ToList();
        var origin = DateTimeOffset.FromUnixTimeSeconds(first);
        var placed = new Dictionary<long, (long At, string Nodes)>();
        SimulationResultFigures Simulate(double launch, double release, bool record)
        {
            var r = Simulator.Run(fleet, trace, scheduling, new SimulationOptions
            {
                LaunchLatencySeconds = launch, ReleaseLatencySeconds = release,
                OnCycle = record ? (_, cycle) =>
                {
                    foreach (var p in cycle.Placements)
                        placed.TryAdd(p.JobId, (cycle.Time, HostList.Compress(p.Gpus.Select(g => fleet.NodeName(g.Node)).Distinct())));
                } : null,
            }).Report;
            return new SimulationResultFigures(r.Jobs, r.MakespanSeconds, r.MeanWaitSeconds, r.P95WaitSeconds);
        }
        var modelled = Simulate(measured.LaunchLatencySeconds, measured.ReleaseLatencySeconds, record: true);
        var bare = Simulate(0, 0, record: false);
        // The twin's starts and ends are in its report only as figures: each job's placement is what it gives here.
        var timings = trace.Select(t => new JobTiming((int)t.Spec.Id - 1, origin.AddSeconds(t.Spec.SubmitTime), null, null,
            placed.TryGetValue(t.Spec.Id, out var p) ? origin.AddSeconds(p.At) : null, null, placed.TryGetValue(t.Spec.Id, out var q) ? q.Nodes : "")).ToList();
        var detail = new JsonObject
        {
            ["launchLatencySeconds"] = Math.Round(measured.LaunchLatencySeconds, 2),
            ["releaseLatencySeconds"] = Math.Round(measured.ReleaseLatencySeconds, 2),
            ["withoutLatencies"] = new JsonObject
            {
                ["makespanSeconds"] = bare.MakespanSeconds,
                ["meanWaitSeconds"] = Math.Round(bare.MeanWaitSeconds, 2),
                ["p95WaitSeconds"] = Math.Round(bare.P95WaitSeconds, 2),
            },
        };
        return new VariantResult("twin", new RunFigures(modelled.Jobs, modelled.MakespanSeconds, modelled.MeanWaitSeconds, modelled.P95WaitSeconds, 0, 0), detail, [], timings);
    }

    private sealed record SimulationResultFigures(int Jobs, double MakespanSeconds, double MeanWaitSeconds, double P95WaitSeconds);

    private static JsonObject Report(Options o, SlurmBenchSetup setup, int gpus, Dictionary<string, VariantResult> results, VariantResult? twin)
    {
        var gpuSeconds = setup.Jobs.Sum(j => (long)j.Gpus * j.RuntimeSeconds);
        var variants = new JsonObject();
        foreach (var r in results.Values.Append(twin).OfType<VariantResult>()) variants[r.Name] = Figures(r);
        var report = new JsonObject
        {
            ["cluster"] = new JsonObject
            {
                ["slurmConf"] = setup.Cluster.Conf,
                ["nodes"] = HostList.Compress(setup.Nodes.Select(n => n.Name)),
                ["gpus"] = gpus,
                ["partition"] = o.Partition,
            },
            ["jobSet"] = new JsonObject
            {
                ["jobs"] = setup.Jobs.Count,
                ["seed"] = o.Seed,
                ["runtimeSeconds"] = new JsonArray(o.RuntimeMin, o.RuntimeMax),
                ["gpus"] = new JsonObject(setup.Jobs.GroupBy(j => j.Gpus).OrderBy(g => g.Key)
                    .Select(g => KeyValuePair.Create(g.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)g.Count()))),
                ["gpuSeconds"] = gpuSeconds,
                // No schedule can end sooner: all the work spread over every GPU.
                ["lowerBoundMakespanSeconds"] = Math.Round((double)gpuSeconds / gpus, 1),
            },
            // Slurm-alone jobs are named <prefix><variant>-<index>; GpuFleet's gpufleet-<id>, ids in the range given with its figures.
            ["namePrefix"] = setup.NamePrefix,
            ["variants"] = variants,
        };
        var ratios = new JsonObject();
        if (results.TryGetValue("gpufleet", out var g))
            foreach (var (key, name) in new[] { ("slurm-default", "gpufleetToSlurmDefault"), ("slurm-tuned", "gpufleetToSlurmTuned") })
                if (results.TryGetValue(key, out var s)) ratios[name] = Ratios(g.Figures, s.Figures);
        report["ratios"] = ratios;
        if (twin is not null && g is not null)
            report["twinDeviationPercent"] = new JsonObject
            {
                ["makespan"] = Deviation(twin.Figures.MakespanSeconds, g.Figures.MakespanSeconds),
                ["meanWait"] = Deviation(twin.Figures.MeanWaitSeconds, g.Figures.MeanWaitSeconds),
                ["p95Wait"] = Deviation(twin.Figures.P95WaitSeconds, g.Figures.P95WaitSeconds),
            };
        return report;
    }

    private static JsonObject Figures(VariantResult r)
    {
        var node = new JsonObject
        {
            ["jobs"] = r.Figures.Jobs,
            ["makespanSeconds"] = r.Figures.MakespanSeconds,
            ["meanWaitSeconds"] = Math.Round(r.Figures.MeanWaitSeconds, 2),
            ["p95WaitSeconds"] = Math.Round(r.Figures.P95WaitSeconds, 2),
        };
        if (r.Name != "twin")
        {
            node["peakStartsPerSecond"] = r.Figures.PeakStartsPerSecond;
            node["startsPerSecond"] = Math.Round(r.Figures.StartsPerSecond, 2);
        }
        foreach (var (key, value) in r.Detail) node[key] = value?.DeepClone();
        node["problems"] = new JsonArray([.. r.Problems.Select(p => (JsonNode?)p)]);
        return node;
    }

    private static JsonObject Ratios(RunFigures gpufleet, RunFigures slurm)
    {
        static double? Ratio(double a, double b) => b > 0 ? Math.Round(a / b, 3) : null;
        return new JsonObject
        {
            ["makespan"] = Ratio(gpufleet.MakespanSeconds, slurm.MakespanSeconds),
            ["meanWait"] = Ratio(gpufleet.MeanWaitSeconds, slurm.MeanWaitSeconds),
            ["p95Wait"] = Ratio(gpufleet.P95WaitSeconds, slurm.P95WaitSeconds),
            ["peakStartsPerSecond"] = Ratio(gpufleet.PeakStartsPerSecond, slurm.PeakStartsPerSecond),
            ["startsPerSecond"] = Ratio(gpufleet.StartsPerSecond, slurm.StartsPerSecond),
        };
    }

    // (predicted − measured) / measured, in percent.
    private static double? Deviation(double predicted, double measured) => measured > 0 ? Math.Round((predicted - measured) / measured * 100, 1) : null;

    private static void Table(Dictionary<string, VariantResult> results, VariantResult? twin)
    {
        var columns = new[] { "slurm-default", "slurm-tuned", "gpufleet" }.Where(results.ContainsKey).Select(k => results[k]).ToList();
        if (twin is not null) columns.Add(twin);
        var table = new Table().Title("GpuFleet over Slurm vs Slurm alone (same cluster, same jobs)");
        table.AddColumn("figure");
        foreach (var c in columns) table.AddColumn(new TableColumn(Markup.Escape(c.Name == "twin" ? "twin (predicts gpufleet)" : c.Name)).RightAligned());
        void Row(string name, Func<VariantResult, string> cell) => table.AddRow(new[] { name }.Concat(columns.Select(cell)).Select(Markup.Escape).ToArray());
        static string S(double seconds) => seconds.ToString("F1", CultureInfo.InvariantCulture) + " s";
        Row("jobs run", c => c.Figures.Jobs.ToString(CultureInfo.InvariantCulture));
        Row("makespan", c => S(c.Figures.MakespanSeconds));
        Row("mean wait", c => S(c.Figures.MeanWaitSeconds));
        Row("p95 wait", c => S(c.Figures.P95WaitSeconds));
        Row("jobs started/s, peak in 1 s", c => c.Name == "twin" ? "-" : c.Figures.PeakStartsPerSecond.ToString(CultureInfo.InvariantCulture));
        Row("jobs started/s, overall", c => c.Name == "twin" ? "-" : c.Figures.StartsPerSecond.ToString("F2", CultureInfo.InvariantCulture));
        Row("problems", c => c.Problems.Count.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        if (!results.TryGetValue("gpufleet", out var g)) return;
        foreach (var key in new[] { "slurm-default", "slurm-tuned" })
        {
            if (!results.TryGetValue(key, out var s)) continue;
            static string R(double a, double b) => b > 0 ? (a / b).ToString("F2", CultureInfo.InvariantCulture) : "-";
            AnsiConsole.WriteLine($"gpufleet / {key}: makespan {R(g.Figures.MakespanSeconds, s.Figures.MakespanSeconds)}, mean wait {R(g.Figures.MeanWaitSeconds, s.Figures.MeanWaitSeconds)}, " +
                $"p95 wait {R(g.Figures.P95WaitSeconds, s.Figures.P95WaitSeconds)}");
        }
        if (twin is not null)
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"twin vs gpufleet: makespan {Deviation(twin.Figures.MakespanSeconds, g.Figures.MakespanSeconds):+0.0;-0.0}%, mean wait {Deviation(twin.Figures.MeanWaitSeconds, g.Figures.MeanWaitSeconds):+0.0;-0.0}% " +
                $"(launch latency {twin.Detail["launchLatencySeconds"]} s, release latency {twin.Detail["releaseLatencySeconds"]} s); " +
                $"without latencies the twin says makespan {twin.Detail["withoutLatencies"]!["makespanSeconds"]} s, mean wait {twin.Detail["withoutLatencies"]!["meanWaitSeconds"]} s"));
    }
}
