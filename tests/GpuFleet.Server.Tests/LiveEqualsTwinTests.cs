using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Hosting;
using GpuFleet.Simulation.Engine;

namespace GpuFleet.Server.Tests;

/// <summary>
/// The proof that the live service decides as the twin does: one trace — a few hundred jobs of three
/// tenants with guarantees (lending and reclaims), priority classes (preemption), large gangs and
/// backfill (reservations), run times past their limits (time-outs) and cancellations — is replayed
/// through the twin, and through the live server's API on a hand-moved clock, stepping from event to
/// event as the twin does. Every placement (job, time, site, model, nodes and GPUs), every eviction
/// (victim, time, preemptor, kind) as the store records them, and every pending job's reason after
/// every cycle must be identical.
/// </summary>
[Trait("Category", "Server")]
public abstract class LiveEqualsTwinTests(Backend backend, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly DateTimeOffset Origin = DateTimeOffset.Parse("2026-11-25T00:00:00Z");

    /// <summary>Two sites: 32 GPUs of model A in 4 nodes (2 NVLink domains), 16 of model B in 2 nodes.</summary>
    private static readonly Fleet TwoSites = new("twin-check",
        [new GpuModel("A", 80, 700, 100, 1), new GpuModel("B", 141, 1000, 120, 1.5)],
        [new Site("s1", "gov", "r1", 10, 1.2), new Site("s2", "corp", "r2", 10, 1.3)],
        [new GpuPoolSpec("s1", "A", 8, 2, 2, 0), new GpuPoolSpec("s2", "B", 8, 2, 1, 0)],
        [new SiteLink("s1", "s2", 10)]);

    /// <summary>Guarantees that add up to the fleet, so that lending and reclaiming both happen.</summary>
    private static readonly TenantTree Tenants = new([
        new TenantSpec("gov", null, new Dictionary<string, int>()),
        new TenantSpec("gov-a", "gov", new Dictionary<string, int> { ["A"] = 16 }),
        new TenantSpec("gov-b", "gov", new Dictionary<string, int> { ["A"] = 8, ["B"] = 8 }, BorrowLimitGpus: 24),
        new TenantSpec("corp", null, new Dictionary<string, int>()),
        new TenantSpec("corp-x", "corp", new Dictionary<string, int> { ["A"] = 8, ["B"] = 8 })]);

    private static readonly SchedulerOptions Options = new()
    {
        Policy = SchedulingPolicy.Shared, Tenants = Tenants, LargeGangGpus = 16, LargeGangReserveAfterSeconds = 1_800,
        PreemptionRetrySeconds = 60, BackfillWindow = 50,
    };

    [Fact]
    public async Task The_live_service_on_a_manual_clock_makes_every_decision_the_twin_makes()
    {
        var trace = Trace(seed: 7, jobs: 300);

        // The twin: every cycle's placements and evictions, and why each waiting job waits.
        var twin = new Decisions();
        var result = Simulator.Run(TwoSites, trace, Options, new SimulationOptions
        {
            OnCycle = (scheduler, cycle) =>
            {
                foreach (var p in cycle.Placements) twin.Placed(p.JobId, cycle.Time, Placement(p));
                foreach (var e in cycle.Preemptions) twin.Evicted(e.VictimJobId, cycle.Time, Eviction(e));
                twin.Reasons(cycle.Time, trace.Select(j => scheduler.Explain(j.Spec.Id)));
            },
        });
        // The trace exercises what it claims to, or the comparison proves little.
        Assert.True(result.Report.Preemptions >= 5, $"only {result.Report.Preemptions} preemptions");
        Assert.True(result.Report.CancelledJobs >= 5, $"only {result.Report.CancelledJobs} cancellations");
        Assert.True(result.Report.TimedOutJobs >= 5, $"only {result.Report.TimedOutJobs} time-outs");
        Assert.Contains(twin.Lines, l => l.Contains("reserved"));
        Assert.Contains(twin.Lines, l => l.Contains("borrow") || l.Contains("guarantee"));

        // The live service: the same submissions and cancellations through the API, one cycle at each instant the twin had one.
        await using var server = await RunningServer.StartAsync(backend, adjust: s => s with
        {
            // Cycles run only when the test says (RunningServer): one at each instant the twin had one.
            Fleet = TwoSites, Scheduling = Options, ClockOrigin = Origin,
        });
        var live = new Decisions();
        var arrivals = new Queue<TraceJob>(trace.OrderBy(j => j.Spec.SubmitTime).ThenBy(j => j.Spec.Id));
        var cancels = new Queue<TraceJob>(trace.Where(j => j.CancelAtSeconds is not null).OrderBy(j => j.CancelAtSeconds).ThenBy(j => j.Spec.Id));
        var submitted = new List<long>();
        while (true)
        {
            var now = long.MaxValue;
            if (arrivals.TryPeek(out var a)) now = a.Spec.SubmitTime;
            if (cancels.TryPeek(out var c)) now = Math.Min(now, c.CancelAtSeconds!.Value);
            if (server.Scheduler.NextExecutorWake is { } wake) now = Math.Min(now, wake);
            if (now == long.MaxValue) break;
            server.Clock.Advance(Origin.AddSeconds(now) - server.Clock.GetUtcNow());
            while (cancels.TryPeek(out c) && c.CancelAtSeconds == now)
            {
                cancels.Dequeue();
                using var cancelled = await server.Client.DeleteAsync($"/api/v1/jobs/{c.Spec.Id}");
                Assert.True(cancelled.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"cancel {c.Spec.Id}: {cancelled.StatusCode}");
            }
            while (arrivals.TryPeek(out a) && a.Spec.SubmitTime == now)
            {
                arrivals.Dequeue();
                var created = await server.PostJobAsync(Request(a));
                Assert.Equal(a.Spec.Id, created.GetProperty("id").GetInt64());
                submitted.Add(a.Spec.Id);
            }
            server.Scheduler.Tick();
            var reasons = new List<PendingExplanation?>(submitted.Count);
            foreach (var id in submitted) reasons.Add(await server.Scheduler.ExplainAsync(id));
            live.Reasons(now, reasons);
        }
        // Placements and evictions as the store recorded them, job by job.
        foreach (var id in submitted)
        {
            var job = await server.GetJobAsync(id);
            foreach (var e in job.GetProperty("history").EnumerateArray())
            {
                var at = (long)(e.GetProperty("at").GetDateTimeOffset() - Origin).TotalSeconds;
                var detail = e.GetProperty("detail").GetString() ?? "";
                if (e.GetProperty("state").GetString() == "running") live.Placed(id, at, detail);
                else if (detail.StartsWith("preempted", StringComparison.Ordinal)) live.Evicted(id, at, detail);
            }
        }

        output.WriteLine($"{trace.Count} jobs: {twin.Placements.Values.Sum(l => l.Count(x => x.Contains("placed")))} placements, {result.Report.Preemptions} evictions, "
            + $"{result.Report.CancelledJobs} cancellations, {result.Report.TimedOutJobs} time-outs, {twin.Lines.Count} decisions and reasons compared");
        Assert.NotEmpty(twin.Lines);
        Assert.Equal(twin.Placements.Count, live.Placements.Count);
        foreach (var (id, expected) in twin.Placements)
            Assert.Equal(string.Join("\n", expected), string.Join("\n", live.Placements.GetValueOrDefault(id) ?? []));
        var (twinLines, liveLines) = (twin.Lines.Order(StringComparer.Ordinal).ToList(), live.Lines.Order(StringComparer.Ordinal).ToList());
        var first = Enumerable.Range(0, Math.Min(twinLines.Count, liveLines.Count)).FirstOrDefault(i => twinLines[i] != liveLines[i], -1);
        Assert.True(first < 0 && twinLines.Count == liveLines.Count,
            first < 0 ? $"twin {twinLines.Count} lines, live {liveLines.Count}" : $"first difference:\n twin: {twinLines[first]}\n live: {liveLines[first]}");
    }

    private static string Placement(PlacementDecision p) => $"placed on {PlacementText.Where(p, TwoSites)}";

    private static string Eviction(PreemptionDecision e) =>
        $"preempted ({e.Kind.ToString().ToLowerInvariant()}) for job {e.PreemptorJobId} of {e.PreemptorTenant}";

    private static object Request(TraceJob j) => new
    {
        tenant = j.Spec.Tenant, gpus = j.Spec.Gpus, models = j.Spec.Models, timeLimitSeconds = j.Spec.TimeLimitSeconds, priority = j.Spec.Priority,
        priorityClass = j.Spec.PriorityClass, runtimeSeconds = j.RuntimeSeconds, topology = j.Spec.Topology.ToString().ToLowerInvariant(),
        site = j.Spec.Site, dataSite = j.Spec.DataSite, dataGb = j.Spec.DataGb, checkpointSeconds = j.Spec.CheckpointIntervalSeconds,
    };

    /// <summary>
    /// A day of bursty arrivals: mostly small jobs with some 16-GPU gangs, a quarter of them preemptible,
    /// a few in production; some bound to one node or NVLink domain, to a site, or with data at the
    /// other site (moved before they start), a third checkpointing every 10 minutes; run times from a
    /// fifth of their limit to a fifth past it; one in ten cancelled before its limit would end it.
    /// </summary>
    private static List<TraceJob> Trace(int seed, int jobs)
    {
        var rng = new Random(seed);
        string[] tenants = ["gov-a", "gov-b", "corp-x"];
        int[] sizes = [1, 1, 2, 2, 4, 4, 8, 8, 8, 16];
        long[] limits = [900, 3_600, 7_200, 14_400];
        var times = Enumerable.Range(0, jobs).Select(_ => 60 + (long)(86_400 * Math.Pow(rng.NextDouble(), 1.5)) / 30 * 30).Order().ToList();
        var list = new List<TraceJob>();
        for (var i = 0; i < jobs; i++)
        {
            var limit = limits[rng.Next(limits.Length)];
            var models = rng.Next(10) switch { < 6 => Array.Empty<string>(), < 8 => ["A"], _ => ["B"] };
            var cls = rng.Next(20) switch { < 5 => "preemptible", 5 => "production", _ => null };
            var gpus = sizes[rng.Next(sizes.Length)];
            var topology = gpus <= 8 && rng.Next(4) == 0 ? TopologyNeed.Node : gpus == 16 && rng.Next(3) == 0 ? TopologyNeed.Domain : TopologyNeed.Site;
            var data = rng.Next(8) == 0 ? (Site: (string?)null, DataSite: (string?)"s2", Gb: 50.0 * rng.Next(1, 5))
                : rng.Next(10) == 0 ? (Site: models.Length == 0 ? "s1" : null, DataSite: null, Gb: 0) : (Site: null, DataSite: null, Gb: 0);
            var spec = new JobSpec(i + 1, tenants[rng.Next(tenants.Length)], gpus, models, topology, limit, rng.Next(10) == 0 ? 10 : 0, times[i])
            {
                PriorityClass = cls, Site = data.Site, DataSite = data.DataSite, DataGb = data.Gb, CheckpointIntervalSeconds = rng.Next(3) == 0 ? 600 : 0,
            };
            var runtime = Math.Max(1, (long)(limit * (0.2 + rng.NextDouble())));
            list.Add(new TraceJob(spec, runtime) { CancelAtSeconds = rng.Next(10) == 0 ? times[i] + 1 + rng.Next((int)limit) : null });
        }
        return list;
    }

    /// <summary>Decisions as comparable text: placements and evictions per job in time order, and every reason given.</summary>
    private sealed class Decisions
    {
        public Dictionary<long, List<string>> Placements { get; } = [];
        public List<string> Lines { get; } = [];

        public void Placed(long job, long at, string what) => Add(job, $"t={at} {what}");

        public void Evicted(long job, long at, string what) => Add(job, $"t={at} {what}");

        public void Reasons(long at, IEnumerable<PendingExplanation?> explanations)
        {
            foreach (var e in explanations)
                if (e is not null) Lines.Add($"t={at} job {e.JobId}: {e.Reason} {e.BlockingJobId} {e.EstimatedStart} {e.Message}");
        }

        private void Add(long job, string line)
        {
            if (!Placements.TryGetValue(job, out var list)) Placements[job] = list = [];
            list.Add(line);
            Lines.Add($"job {job} {line}");
        }
    }
}

/// <summary>The proof on SQLite.</summary>
public sealed class LiveEqualsTwinTestsOnSqlite(Xunit.Abstractions.ITestOutputHelper output) : LiveEqualsTwinTests(Backend.Sqlite, output);

/// <summary>The proof on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class LiveEqualsTwinTestsOnPostgres(Xunit.Abstractions.ITestOutputHelper output) : LiveEqualsTwinTests(Backend.Postgres, output);
