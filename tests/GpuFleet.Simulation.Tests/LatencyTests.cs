using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Engine;
using static GpuFleet.Tests.Shared.JobBuilder;

namespace GpuFleet.Simulation.Tests;

/// <summary>A real cluster's delays in the twin: from a placement to the job's start, and from its end to its GPUs taking new work.</summary>
[Trait("Category", "Simulation")]
public sealed class LatencyTests
{
    // One node of 8 GPUs and jobs of 8 GPUs that run 10 s each: they can only run one after another.
    private static List<(long Placed, long JobId)> Run(int jobs, SimulationOptions options, out Reports.SimulationReport report)
    {
        var placements = new List<(long, long)>();
        var trace = Enumerable.Range(1, jobs).Select(i => new TraceJob(Job(i).Gpus(8).Limit(60).Build(), 10)).ToList();
        report = Simulator.Run(FleetBuilder.Pool(gpusPerNode: 8).Build(), trace, new SchedulerOptions { Policy = SchedulingPolicy.EasyBackfill }, options with
        {
            OnCycle = (_, cycle) => placements.AddRange(cycle.Placements.Select(p => (cycle.Time, p.JobId))),
        }).Report;
        return placements;
    }

    [Fact]
    public void Without_latencies_jobs_start_as_placed_and_gpus_are_free_at_the_end()
    {
        var placed = Run(2, new SimulationOptions(), out var r);
        Assert.Equal([(0L, 1L), (10L, 2L)], placed);
        Assert.Equal((20.0, 5.0), (r.MakespanSeconds, r.MeanWaitSeconds));
    }

    [Fact]
    public void A_launch_latency_delays_the_start_and_a_release_latency_the_next_placement_but_not_the_end()
    {
        // Job 1: placed at 0, starts at 2, ends at 12; its GPUs take new work at 13. Job 2: placed at 13, starts at 15, ends at 25.
        var placed = Run(2, new SimulationOptions { LaunchLatencySeconds = 2, ReleaseLatencySeconds = 1 }, out var r);
        Assert.Equal([(0L, 1L), (13L, 2L)], placed);
        Assert.Equal(25, r.MakespanSeconds);
        Assert.Equal((2 + 15) / 2.0, r.MeanWaitSeconds);
        Assert.Equal(0, r.TimedOutJobs);
    }

    [Fact]
    public void A_fractional_latency_is_spread_over_placements_in_whole_seconds_with_its_mean()
    {
        // 0.5 s: the placements get 0, 1, 0, 1 s. Starts at 0, 11, 21, 32; the last ends at 42.
        var placed = Run(4, new SimulationOptions { LaunchLatencySeconds = 0.5 }, out var r);
        Assert.Equal([(0L, 1L), (10L, 2L), (21L, 3L), (31L, 4L)], placed);
        Assert.Equal(42, r.MakespanSeconds);
        Assert.Equal((0 + 11 + 21 + 32) / 4.0, r.MeanWaitSeconds);
    }

    [Fact]
    public void The_time_limit_counts_from_the_start_on_the_cluster()
    {
        // A 10 s job with a 10 s limit, 5 s to start: it ends at 15 having run its 10 s, not cut at 10.
        var trace = new List<TraceJob> { new(Job(1).Gpus(8).Limit(10).Build(), 10) };
        var r = Simulator.Run(FleetBuilder.Pool(gpusPerNode: 8).Build(), trace, new SchedulerOptions { Policy = SchedulingPolicy.EasyBackfill },
            new SimulationOptions { LaunchLatencySeconds = 5 }).Report;
        Assert.Equal((15.0, 0), (r.MakespanSeconds, r.TimedOutJobs));
    }
}
