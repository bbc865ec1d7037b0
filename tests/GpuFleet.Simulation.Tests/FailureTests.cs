using System.Text.Json;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Data;
using GpuFleet.Data.Failures;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;
using static GpuFleet.Tests.Shared.JobBuilder;

namespace GpuFleet.Simulation.Tests;

/// <summary>Node and site outages in the twin: lost runs, their lost work, GPUs out of service, and the failures' inputs.</summary>
[Trait("Category", "Simulation")]
public sealed class FailureTests
{
    /// <summary>What the scheduler decided in each cycle: when, which job, on which nodes.</summary>
    private sealed record Placed(long At, long JobId, int[] Nodes);

    private static (SimulationReport Report, List<Placed> Placements) Run(Fleet fleet, IReadOnlyList<TraceJob> jobs, SimulationOptions options,
        SchedulingPolicy? policy = null)
    {
        var placements = new List<Placed>();
        var report = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = policy ?? SchedulingPolicy.EasyBackfill }, options with
        {
            OnCycle = (_, cycle) => placements.AddRange(cycle.Placements.Select(p => new Placed(cycle.Time, p.JobId, [.. p.Gpus.Select(g => g.Node)]))),
        }).Report;
        return (report, placements);
    }

    /// <summary>The nodes the first placement of a run without failures takes (the twin is deterministic: a run with failures starts alike).</summary>
    private static int[] FirstNodes(Fleet fleet, IReadOnlyList<TraceJob> jobs) => Run(fleet, jobs, new SimulationOptions()).Placements[0].Nodes;

    [Theory]
    [InlineData(3_600, 5_000 - 3_600)]   // kept one hourly checkpoint: loses the 1,400 s since
    [InlineData(0, 5_000)]               // no checkpoints: loses all it ran
    public void A_failed_node_requeues_its_job_which_finishes_elsewhere_having_lost_the_work_since_its_last_checkpoint(long checkpoint, long lostSeconds)
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build();
        var job = new TraceJob(Job(1).Gpus(8).Limit(20_000).Checkpoint(checkpoint).Build(), 10_000);
        var node = FirstNodes(fleet, [job]).Single();
        var (r, placed) = Run(fleet, [job], new SimulationOptions { Failures = [new NodeFailure(5_000, node, 100_000)] });

        Assert.Equal((0L, 1L), (placed[0].At, placed[0].JobId));
        Assert.Equal([node], placed[0].Nodes);
        // Queued again at the failure and placed at once on the other node, with its saved work kept.
        Assert.Equal(2, placed.Count);
        Assert.Equal(5_000, placed[1].At);
        Assert.Equal([1 - node], placed[1].Nodes);
        var saved = 5_000 - lostSeconds;
        Assert.Equal(5_000 + (10_000 - saved), r.MakespanSeconds);
        Assert.Equal(1, r.Jobs);
        Assert.Equal(0, r.TimedOutJobs);
        Assert.Equal(1, r.NodeFailures);
        Assert.Equal(1, r.JobsInterruptedByFailures);
        Assert.Equal(lostSeconds * 8 / 3600.0, r.FailureLostGpuHours!.Value, 9);
        // The failed node is down from the failure to the end of the run (its repair comes later).
        Assert.Equal(8 * (r.MakespanSeconds - 5_000) / 3600.0, r.OutOfServiceGpuHours!.Value, 9);
        // Failures are not preemptions.
        Assert.Equal(0, r.Preemptions);
        Assert.Equal(0, r.LostGpuHours);
    }

    [Fact]
    public void A_gang_spanning_a_failed_node_loses_its_whole_run_and_frees_its_other_nodes()
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8, domains: 3).Build();
        var job = new TraceJob(Job(1).Gpus(16).Limit(20_000).Build(), 10_000);
        var gang = FirstNodes(fleet, [job]);
        Assert.Equal(2, gang.Length);
        var (failed, other) = (gang[0], gang[1]);
        var idle = 3 - failed - other;
        var (r, placed) = Run(fleet, [job], new SimulationOptions { Failures = [new NodeFailure(1_000, failed, 50_000)] });

        Assert.Equal(gang, placed[0].Nodes);
        // The other node's GPUs came free at the failure: the gang starts again at once on it and the idle node, never on the failed one.
        Assert.Equal((1_000L, 1L), (placed[1].At, placed[1].JobId));
        Assert.Equal(new[] { idle, other }.Order(), placed[1].Nodes.Order());
        Assert.Equal(1, r.JobsInterruptedByFailures);
        Assert.Equal(1_000 * 16 / 3600.0, r.FailureLostGpuHours!.Value, 9);
        Assert.Equal(11_000, r.MakespanSeconds);
    }

    [Fact]
    public void A_gang_whose_nodes_fail_together_is_interrupted_once_and_waits_for_their_repair()
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8, domains: 3).Build();
        var job = new TraceJob(Job(1).Gpus(16).Limit(20_000).Build(), 10_000);
        var gang = FirstNodes(fleet, [job]);
        var (r, placed) = Run(fleet, [job], new SimulationOptions { Failures = [.. gang.Select(n => new NodeFailure(1_000, n, 5_000))] });

        Assert.Equal(2, r.NodeFailures);
        Assert.Equal(1, r.JobsInterruptedByFailures);
        Assert.Equal(1_000 * 16 / 3600.0, r.FailureLostGpuHours!.Value, 9);
        // One node alone cannot take it: it starts again at the repair.
        Assert.Equal([0L, 6_000L], placed.Select(p => p.At));
        Assert.Equal(16_000, r.MakespanSeconds);
        Assert.Equal(16 * 5_000 / 3600.0, r.OutOfServiceGpuHours!.Value, 9);
    }

    [Fact]
    public void A_job_that_no_other_node_can_take_waits_for_the_repair()
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8).Build();
        var job = new TraceJob(Job(1).Gpus(8).Limit(5_000).Build(), 1_000);
        var (r, placed) = Run(fleet, [job], new SimulationOptions { Failures = [new NodeFailure(500, 0, 2_000)] });

        // Nothing runs and nothing arrives after the failure, yet the run goes on to the repair and the job runs then.
        Assert.Equal([0L, 2_500L], placed.Select(p => p.At));
        Assert.Equal(3_500, r.MakespanSeconds);
        Assert.Equal(8 * 2_000 / 3600.0, r.OutOfServiceGpuHours!.Value, 9);
    }

    [Fact]
    public void Overlapping_failures_of_a_node_are_one_outage_whose_GPUs_come_back_once_at_the_later_repair()
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8).Build();
        var job = new TraceJob(Job(1).Gpus(8).Limit(5_000).Build(), 1_000);
        // Down at 500 until 2,500; failing again at 1,000 for 3,000 s keeps it down until 4,000, not 2,500.
        var (r, placed) = Run(fleet, [job], new SimulationOptions { Failures = [new NodeFailure(1_000, 0, 3_000), new NodeFailure(500, 0, 2_000)] });

        Assert.Equal([0L, 4_000L], placed.Select(p => p.At));
        Assert.Equal(1, r.NodeFailures);
        Assert.Equal(1, r.JobsInterruptedByFailures);
        Assert.Equal(8 * 3_500 / 3600.0, r.OutOfServiceGpuHours!.Value, 9);
    }

    [Fact]
    public void A_site_outage_takes_down_every_node_of_the_site_and_no_other()
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8, domains: 2, site: "a").AndPool(gpusPerNode: 8, site: "b").Build();
        var file = TestFiles.Temp("failures.csv");
        File.WriteAllText(file, "at,target,duration\n1000,a,2h\n");
        var failures = FailureFile.Load(file, fleet).SelectMany(e => e.Nodes.Select(n => new NodeFailure(e.AtSeconds, n, e.DurationSeconds))).ToList();
        var jobs = Enumerable.Range(1, 3).Select(i => new TraceJob(Job(i).Gpus(8).Limit(20_000).Build(), 10_000)).ToList();
        var (r, placed) = Run(fleet, jobs, new SimulationOptions { Failures = failures });

        Assert.Equal([0, 1], failures.Select(f => f.Node));
        Assert.Equal(2, r.NodeFailures);
        Assert.Equal(2, r.JobsInterruptedByFailures);
        // The two jobs at site a start again when it is back (b stays busy until 10,000); the job at b ran through.
        var again = placed.Where(p => p.At > 0).ToList();
        Assert.Equal(2, again.Count);
        Assert.All(again, p => Assert.Equal(1_000 + 7_200, p.At));
        Assert.All(again, p => Assert.Equal("a", fleet.Sites[fleet.PoolSite(fleet.NodePool(p.Nodes.Single()))].Name));
        Assert.Equal(8_200 + 10_000, r.MakespanSeconds);
        Assert.Equal(16 * 7_200 / 3600.0, r.OutOfServiceGpuHours!.Value, 9);
    }

    [Fact]
    public void Under_many_failures_no_GPU_is_counted_twice_and_busy_free_and_out_of_service_add_up()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(1_500).ToList();
        var ids = jobs.Select(j => j.Spec.Id).ToArray();
        var poolGpus = Enumerable.Range(0, fleet.PoolCount).Select(fleet.PoolGpus).ToArray();
        double busySeconds = 0, freeSeconds = 0, outSeconds = 0;
        long? first = null, last = null;
        int busyNow = 0, freeNow = 0, outNow = 0, cycles = 0;
        var placements = new Dictionary<long, int>();

        void Check(FleetScheduler s, CycleResult cycle)
        {
            // Integrate the state the previous cycle left, up to this one.
            if (last is { } before)
            {
                busySeconds += busyNow * (double)(cycle.Time - before);
                freeSeconds += freeNow * (double)(cycle.Time - before);
                outSeconds += outNow * (double)(cycle.Time - before);
            }
            first ??= cycle.Time;
            last = cycle.Time;
            cycles++;
            foreach (var p in cycle.Placements) placements[p.JobId] = placements.GetValueOrDefault(p.JobId) + 1;

            // No GPU is held by two jobs, and the scheduler's per-node masks are exactly the jobs' GPUs.
            var held = new ulong[fleet.NodeCount];
            foreach (var id in ids)
                foreach (var a in s.Allocation(id) ?? [])
                {
                    Assert.True((held[a.Node] & a.Mask) == 0, $"t={cycle.Time}: a GPU of node {a.Node} is held by two jobs");
                    held[a.Node] |= a.Mask;
                }
            var outByPool = new int[fleet.PoolCount];
            outNow = 0;
            for (var n = 0; n < fleet.NodeCount; n++)
            {
                Assert.Equal(held[n], s.NodeUsedMask(n));
                var down = s.OutOfService(n);
                Assert.True(down == 0 || down == fleet.NodeGpus(n), $"node {n}: {down} GPUs out of service");
                // A failed node runs nothing: its runs were lost, and nothing is placed on it until its repair.
                if (down > 0) Assert.True(held[n] == 0, $"t={cycle.Time}: failed node {fleet.NodeName(n)} still holds a job");
                outByPool[fleet.NodePool(n)] += down;
                outNow += down;
            }
            busyNow = freeNow = 0;
            for (var p = 0; p < fleet.PoolCount; p++)
            {
                Assert.Equal(poolGpus[p], s.BusyByPool[p] + s.FreeGpus(p) + outByPool[p]);
                busyNow += s.BusyByPool[p];
                freeNow += s.FreeGpus(p);
            }
        }

        var failures = new List<NodeFailure>
        {
            new(3_600, 5, 4 * 3_600), new(5_400, 5, 3_600),   // the second falls within the first: one outage
        };
        failures.AddRange(Enumerable.Range(0, fleet.NodeCount).Select(n => new NodeFailure(20 * 3_600, n, 1_800)));  // the whole site
        var result = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.EasyBackfill }, new SimulationOptions
        {
            Failures = failures,
            FailureRate = new NodeFailureRate(MtbfHours: 300, RepairHours: 6, Seed: 3),
            OnCycle = Check,
        });
        var r = result.Report;

        Assert.True(r.NodeFailures > fleet.NodeCount + 5, $"{r.NodeFailures} failures: too few to test anything");
        Assert.True(r.JobsInterruptedByFailures > 20, $"{r.JobsInterruptedByFailures} jobs interrupted: too few to test anything");
        Assert.Equal(jobs.Count, r.Jobs);
        // Every interruption is one more placement of its job (no evictions without a tenant tree): none counted twice, none missed.
        Assert.Equal(0, r.Preemptions);
        Assert.Equal(r.JobsInterruptedByFailures, placements.Values.Sum(k => k - 1));
        // Over the run, busy + free + out of service is the whole fleet, and the report's figures are those integrals.
        var span = (double)(last!.Value - first!.Value);
        Assert.Equal(r.MakespanSeconds, span);
        Assert.Equal(fleet.TotalGpus * span, busySeconds + freeSeconds + outSeconds, 6);
        Assert.Equal(busySeconds / (fleet.TotalGpus * span), r.Utilization, 9);
        Assert.Equal(outSeconds / 3600, r.OutOfServiceGpuHours!.Value, 6);
        Assert.True(cycles > 0);
    }

    [Fact]
    public void Random_failures_are_the_same_with_the_same_seed_and_differ_with_another()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(2_000).ToList();
        SimulationResult RunWith(long seed) => Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.FairShare },
            new SimulationOptions { FailureRate = new NodeFailureRate(MtbfHours: 200, RepairHours: 4, Seed: seed) });
        static string Bytes(SimulationResult r)
        {
            var csv = new StringWriter();
            TimeSeriesCsv.Write(csv, r);
            return JsonSerializer.Serialize(r.Report) + csv;
        }
        var first = RunWith(7);
        Assert.True(first.Report.NodeFailures > 5, $"only {first.Report.NodeFailures} failures");
        Assert.Equal(Bytes(first), Bytes(RunWith(7)));
        var other = RunWith(8);
        Assert.NotEqual(Bytes(first), Bytes(other));
        Assert.NotEqual(first.Report.OutOfServiceGpuHours, other.Report.OutOfServiceGpuHours);
    }

    [Fact]
    public void A_run_without_failures_reports_none_of_their_figures()
    {
        var fleet = FleetBuilder.Pool(gpusPerNode: 8).Build();
        var report = Simulator.Run(fleet, [new TraceJob(Job(1).Gpus(8).Build(), 50)], new SchedulerOptions()).Report;
        var json = JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        foreach (var key in new[] { "nodeFailures", "jobsInterruptedByFailures", "failureLostGpuHours", "outOfServiceGpuHours" })
            Assert.DoesNotContain($"\"{key}\"", json);
        // Given failures, the figures are there even when none came within the run.
        var given = Simulator.Run(fleet, [new TraceJob(Job(1).Gpus(8).Build(), 50)], new SchedulerOptions(),
            new SimulationOptions { Failures = [new NodeFailure(1_000_000, 0, 10)] }).Report;
        Assert.Equal(0, given.NodeFailures);
        Assert.Contains("\"outOfServiceGpuHours\":0", JsonSerializer.Serialize(given, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }

    [Theory]
    [InlineData("at,target\n0,philly\n", 1, "duration", "column missing")]
    [InlineData("at,target,duration,why\n", 1, "header", "unknown column 'why'")]
    [InlineData("# outages\nat,target,duration\n0,philly-p100-0001,1h\n60,philly-p100-0999,1h\n", 4, "target", "'philly-p100-0999' is neither a site nor a node")]
    [InlineData("at,target,duration\nsoon,philly,1h\n", 2, "at", "must be a time from the start of the trace")]
    [InlineData("at,target,duration\n-5,philly,1h\n", 2, "at", "must not be negative")]
    [InlineData("at,target,duration\n\n10,philly,0\n", 3, "duration", "must be at least 1 s")]
    [InlineData("at,target,duration\n10,philly\n", 2, "row", "has 2 columns")]
    [InlineData("target,duration,at\n,1h,10\n", 2, "target", "must not be empty")]
    public void A_bad_failures_file_names_its_line_and_field(string text, int line, string field, string problem)
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var file = TestFiles.Temp("failures.csv");
        File.WriteAllText(file, text);
        var e = Assert.Throws<DataFileException>(() => FailureFile.Load(file, fleet));
        Assert.Equal((file, (long)line, field), (e.File, e.Line, e.Field));
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"{file}:{line}: {field}: ", e.Message);
    }

    [Fact]
    public void A_failures_file_reads_nodes_sites_and_durations_in_any_column_order()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var file = TestFiles.Temp("failures.csv");
        File.WriteAllText(file, "\uFEFFtarget, duration, at\n# one node, then the site\nPHILLY-P100-0012,30m,2d\nphilly,4h,3600\n");
        var entries = FailureFile.Load(file, fleet);
        Assert.Equal(2, entries.Count);
        Assert.Equal((2 * 86_400L, 1_800L, 3L), (entries[0].AtSeconds, entries[0].DurationSeconds, entries[0].Line));
        Assert.Equal("philly-p100-0012", fleet.NodeName(Assert.Single(entries[0].Nodes)));
        Assert.Equal((3_600L, 4 * 3_600L), (entries[1].AtSeconds, entries[1].DurationSeconds));
        Assert.Equal(Enumerable.Range(0, fleet.NodeCount), entries[1].Nodes);
    }
}
