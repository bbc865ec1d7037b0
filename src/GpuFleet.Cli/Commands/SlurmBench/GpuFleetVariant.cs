using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// The variant with GpuFleet in front of Slurm: an in-process server (SQLite in a temporary directory) whose
/// fleet is one site of exactly the bench's nodes, run by the Slurm executor; the whole job set submitted
/// through the API in one batch; GpuFleet places each job and the executor submits it to Slurm on the nodes
/// placed. Figures come from Slurm's own records, as for Slurm alone; a job's wait runs from its submission
/// to the API to its start on Slurm.
/// </summary>
/// <remarks>
/// Besides, the API is read every 200 ms to see when each job was placed (pending → running) and when GpuFleet
/// learned of its end (running → succeeded): from these and Slurm's times come the launch latency (placement
/// to Slurm's start) and the release latency (the job's end as its run time sets it, start + run time, to the
/// cycle that frees its GPUs), which the twin's prediction models. A state change seen between two reads is
/// dated halfway between them, and Slurm's whole-second times halfway into their second.
/// </remarks>
internal static class GpuFleetVariant
{
    private const string Token = "bench-admin";
    private static readonly TimeSpan ReadEvery = TimeSpan.FromMilliseconds(200);

    /// <summary>What the twin needs from the run besides the job set: when each job was submitted, and the latencies measured.</summary>
    public sealed record Measured(VariantResult Result, IReadOnlyDictionary<int, DateTimeOffset> Submitted, double LaunchLatencySeconds, double ReleaseLatencySeconds);

    /// <summary>The fleet of the bench's nodes: one site, one pool specification per node, named as Slurm names them.</summary>
    public static Fleet FleetOf(SlurmBenchSetup setup, IReadOnlyDictionary<string, string> executor)
    {
        var pools = setup.Nodes.Select(n =>
        {
            var split = HostList.Split(n.Name) ?? throw new CliUsageException($"node '{n.Name}' does not end in a number; GpuFleet's fleet files name nodes as text and a number");
            return new GpuPoolSpec("slurm", "gpu", n.Gpus, 1, 1, 0) { NodeNames = $"{split.Prefix}{{{split.Digits}}}" };
        }).ToList();
        return new Fleet("slurm-bench", [new GpuModel("gpu", 80, 700, 100, 1)],
            [new Site("slurm", "bench", "local", 10, 1.2) { Executor = new SiteExecutorSpec("slurm", executor) }], pools);
    }

    public static async Task<Measured> RunAsync(SlurmBenchSetup setup, Fleet fleet, SchedulerOptions scheduling, TimeSpan cycle, string schedulerSettings, CancellationToken cancel)
    {
        var dir = Directory.CreateTempSubdirectory("gpufleet-bench-slurm-");
        var database = Path.Combine(dir.FullName, "gpufleet.db");
        var names = new HashSet<string>(StringComparer.Ordinal);
        WebApplication? app = null;
        try
        {
            // Job ids no earlier run used: Slurm remembers finished runs by name (gpufleet-<id>).
            using (var store = new GpuFleet.Server.Storage.JobStore(database)) store.StartJobIdsAboveNow(DateTimeOffset.UtcNow);
            app = ServerApp.Build(new ServerSettings
            {
                Fleet = fleet, Scheduling = scheduling, Database = database, AdminToken = Token, RequestsPerMinutePerToken = int.MaxValue, CycleInterval = cycle,
            }, ["--urls", "http://127.0.0.1:0"], b =>
            {
                b.Logging.ClearProviders();
                b.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
                b.Logging.SetMinimumLevel(LogLevel.Warning);
            });
            await app.StartAsync(cancel);
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);

            var idle = await setup.WaitIdleAsync(_ => false, cancel);
            await WaitForInventoryAsync(http, fleet.TotalGpus, cancel);

            SlurmBenchSetup.Say($"gpufleet: submitting {setup.Jobs.Count} jobs through the API");
            var ids = new Dictionary<long, SlurmBenchJob>();
            var submitted = new Dictionary<int, DateTimeOffset>();
            var first = DateTimeOffset.Now;
            foreach (var chunk in setup.Jobs.Chunk(1_000))
            {
                var body = chunk.Select(j => new
                {
                    name = $"bench-{j.Index:D4}", tenant = "bench", gpus = j.Gpus, timeLimitSeconds = j.TimeLimitMinutes * 60L, command = j.Command,
                }).ToList();
                using var response = await http.PostAsJsonAsync("/api/v1/jobs/batch", body, cancel);
                if (response.StatusCode != System.Net.HttpStatusCode.Created)
                    throw new CliUsageException($"the server refused the batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
                var views = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
                var k = 0;
                foreach (var view in views.EnumerateArray())
                {
                    var job = chunk[k++];
                    var id = view.GetProperty("id").GetInt64();
                    ids[id] = job;
                    names.Add($"gpufleet-{id}");
                    submitted[job.Index] = view.GetProperty("submittedAt").GetDateTimeOffset();
                }
            }
            SlurmBenchSetup.Say($"gpufleet: submitted in {(DateTimeOffset.Now - first).TotalSeconds:F2} s; waiting for the ends");

            var (placedAt, learnedAt, states) = await FollowAsync(http, ids.Keys.ToHashSet(), first, setup.Timeout, cancel);
            var records = await setup.WaitRecordedAsync(names, first, cancel);
            var byName = records.Where(r => r.Start is not null).GroupBy(r => r.Name).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single());

            var runs = new List<(DateTimeOffset, DateTimeOffset, DateTimeOffset)>();
            var launch = new List<double>();
            var release = new List<double>();
            var overrun = new List<double>();
            var timings = new List<JobTiming>();
            foreach (var (id, job) in ids)
            {
                if (!byName.TryGetValue($"gpufleet-{id}", out var r)) continue;
                timings.Add(new JobTiming(job.Index, DateTimeOffset.FromUnixTimeSeconds(submitted[job.Index].ToUnixTimeSeconds()), r.Start, r.End,
                    placedAt.TryGetValue(id, out var p) ? p : null, learnedAt.TryGetValue(id, out var l) ? l : null, HostList.Compress(r.Nodes)));
                // Whole seconds, as Slurm gives its own times: the submission to the API counts from the second it fell in.
                runs.Add((DateTimeOffset.FromUnixTimeSeconds(submitted[job.Index].ToUnixTimeSeconds()), r.Start!.Value, r.End));
                var start = r.Start!.Value.AddSeconds(0.5);
                if (placedAt.TryGetValue(id, out var placed)) launch.Add((start - placed).TotalSeconds);
                if (learnedAt.TryGetValue(id, out var learned)) release.Add((learned - start).TotalSeconds - job.RuntimeSeconds);
                overrun.Add((r.End - r.Start!.Value).TotalSeconds - job.RuntimeSeconds);
            }
            var problems = SlurmBenchSetup.Problems(names, records);
            foreach (var (id, state) in states.Where(s => s.Value != "succeeded")) problems.Add($"gpufleet-{id}: {state} in GpuFleet");
            var health = app.Services.GetRequiredService<LiveScheduler>().SiteHealth.SingleOrDefault();
            // Slurm's times are whole seconds (a start counts from the middle of its second), so a mean latency
            // below that resolution may come out slightly negative: it is none, as the twin takes it.
            var launchMean = Math.Max(0, launch.Count > 0 ? launch.Average() : 0);
            var releaseMean = Math.Max(0, release.Count > 0 ? release.Average() : 0);
            var detail = new JsonObject
            {
                ["slurmSchedulerSettings"] = schedulerSettings,
                ["policy"] = scheduling.Policy.Name,
                ["pollSeconds"] = int.Parse(fleet.Sites[0].Executor.Setting("pollSeconds")!, CultureInfo.InvariantCulture),
                ["inventorySeconds"] = int.Parse(fleet.Sites[0].Executor.Setting("inventorySeconds")!, CultureInfo.InvariantCulture),
                ["cycleSeconds"] = cycle.TotalSeconds,
                ["launchLatencySeconds"] = Math.Round(launchMean, 2),
                ["launchLatencyP95Seconds"] = Math.Round(Simulation.Reports.Percentile.OfSorted([.. launch.Order()], 0.95), 2),
                ["releaseLatencySeconds"] = Math.Round(releaseMean, 2),
                ["slurmRunOverrunSeconds"] = Math.Round(overrun.Count > 0 ? overrun.Average() : 0, 2),
                ["heterogeneousJobs"] = records.Count(r => r.Components > 1),
                ["startedElsewhereThanPlaced"] = health?.Mismatches ?? 0,
                ["idleAtStart"] = idle,
                ["jobIds"] = new JsonArray(ids.Keys.Min(), ids.Keys.Max()),
            };
            return new Measured(new VariantResult("gpufleet", RunFigures.Of(runs), detail, problems, [.. timings.OrderBy(t => t.Index)]), submitted, launchMean, releaseMean);
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
            // A stopped server leaves its runs to the next leader: here there is none, so they go.
            await setup.Cluster.CancelAsync(names.Contains, CancellationToken.None);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    // Until the executor's first inventory is in: before it, no GPU of the site takes work.
    private static async Task WaitForInventoryAsync(HttpClient http, int gpus, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var site = (await http.GetFromJsonAsync<JsonElement>("/api/v1/sites", cancel)).EnumerateArray().FirstOrDefault();
            if (site.ValueKind == JsonValueKind.Object && site.TryGetProperty("reachable", out var r) && r.ValueKind == JsonValueKind.True
                && site.GetProperty("outOfServiceGpus").GetInt32() < gpus)
                return;
            if (watch.Elapsed > TimeSpan.FromSeconds(60))
                throw new CliUsageException($"GpuFleet's Slurm executor did not take an inventory of the cluster within 60 s: {site}");
            await Task.Delay(200, cancel);
        }
    }

    // Reads the jobs' states every 200 ms until all are over: when each was seen placed, when seen over, and its final state.
    private static async Task<(Dictionary<long, DateTimeOffset> Placed, Dictionary<long, DateTimeOffset> Learned, Dictionary<long, string> States)> FollowAsync(
        HttpClient http, HashSet<long> ids, DateTimeOffset since, TimeSpan timeout, CancellationToken cancel)
    {
        var placed = new Dictionary<long, DateTimeOffset>();
        var learned = new Dictionary<long, DateTimeOffset>();
        var before = since;
        while (learned.Count < ids.Count)
        {
            if (DateTimeOffset.Now - since > timeout)
                throw new CliUsageException($"GpuFleet did not finish every job within {timeout.TotalSeconds:F0} s (--timeout): {ids.Count - learned.Count} not over");
            await Task.Delay(ReadEvery, cancel);
            var asked = DateTimeOffset.Now;
            var pending = await IdsAsync(http, "pending", cancel);
            var running = await IdsAsync(http, "running", cancel);
            var answered = DateTimeOffset.Now;
            var seen = asked + (answered - asked) / 2;
            var at = before + (seen - before) / 2;
            foreach (var id in ids)
            {
                if (running.Contains(id) || !pending.Contains(id)) placed.TryAdd(id, at);
                if (!running.Contains(id) && !pending.Contains(id)) learned.TryAdd(id, at);
            }
            before = seen;
        }
        var states = new Dictionary<long, string>();
        foreach (var state in new[] { "succeeded", "failed", "cancelled" })
            foreach (var id in await IdsAsync(http, state, cancel))
                if (ids.Contains(id)) states[id] = state;
        foreach (var id in ids) states.TryAdd(id, "unknown");
        return (placed, learned, states);
    }

    private static async Task<HashSet<long>> IdsAsync(HttpClient http, string state, CancellationToken cancel)
    {
        var ids = new HashSet<long>();
        long? after = 0;
        while (after is { } from)
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?state={state}&limit=1000&after={from}", cancel);
            foreach (var job in page.GetProperty("items").EnumerateArray()) ids.Add(job.GetProperty("id").GetInt64());
            after = page.GetProperty("next").ValueKind == JsonValueKind.Number ? page.GetProperty("next").GetInt64() : null;
        }
        return ids;
    }
}
