using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Simulation.Benchmarking;

/// <summary>
/// How much of a fleet a packing leaves unusable: requests drawn from a mix arrive one after another and
/// none ends. A request that cannot be placed is dropped and the next one comes, until the requests add up
/// to the fleet's capacity (the measure of Weng et al., USENIX ATC 2023: unallocated GPUs when the arrived
/// workload reaches 100% of capacity); the share unallocated when the first request was refused is kept
/// too. The same seed gives the same requests in every run, so packings, and slices on or off, are compared
/// on the same sequence.
/// <para>Fragmentation-aware packing weighs each kind of request by how often the scheduler has seen it. A
/// scheduler in service has seen its workload for weeks; one started for the experiment has seen nothing, and a
/// kind it has not yet seen (the rare 4-GPU job with 512 GB, say) has no weight until it comes, by which time
/// the nodes that could take it may be taken. <c>history</c> gives the scheduler that past: requests of the same
/// mix, drawn from another stream, submitted and withdrawn before the experiment (placing nothing), as the
/// workload distribution that Weng et al. take from historical traces. Best-fit and worst-fit do not read it.</para>
/// <para>Example: on 10 GPUs, eight ½-GPU jobs then a 4-GPU job. Best-fit pairs the halves on 4 GPUs, and the
/// 4-GPU job fits the 6 whole GPUs left; worst-fit spreads the halves over 8 GPUs, and the 4-GPU job finds 2:
/// it stops with 6 GPUs' worth of capacity (60%) unallocated, in halves no whole job can use.</para>
/// </summary>
public static class SaturationExperiment
{
    // Jobs never end within the experiment; a limit this long never binds.
    private const long NeverEnds = 1_000_000_000;
    // The history's job ids, apart from the experiment's (1 up to maxJobs).
    private const long FirstHistoryId = 1L << 40;

    /// <summary>
    /// Runs until the requests (as stated, in GPU-equivalents) add up to the fleet's GPUs; requests that could
    /// never run anywhere are drawn again. The scheduler has first seen <paramref name="history"/> requests of the
    /// same mix (see the class remarks).
    /// </summary>
    public static SaturationResult Run(Fleet fleet, RequestMix mix, SlicePacking packing, bool slices, int seed, int history = 0, int maxJobs = 1_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(history);
        var scheduler = new FleetScheduler(fleet, new SchedulerOptions
        {
            Policy = SchedulingPolicy.Find("fifo")!,
            SlicePacking = packing,
        });
        // Another stream than the experiment's, so that every history length meets the same requests.
        var past = new Random(unchecked(seed * 1_000_003 + 17));
        for (var i = 0; i < history; i++)
        {
            var id = FirstHistoryId + i;
            if (scheduler.Submit(Spec(id, slices ? mix.Draw(past) : mix.Draw(past).RoundedUp(), submitTime: 0)).Accepted) scheduler.End(id, 0);
        }
        var random = new Random(seed);
        var held = new Dictionary<long, (bool, double)>();
        double allocated = 0, fractionalHeld = 0;
        var fractional = 0;
        double requested = 0;
        double? atFirstRefusal = null;
        for (long id = 1; id <= maxJobs && requested < fleet.TotalGpus; id++)
        {
            var drawn = mix.Draw(random);
            var shape = slices ? drawn : drawn.RoundedUp();
            if (!scheduler.Submit(Spec(id, shape, submitTime: id)).Accepted) continue;
            requested += drawn.StatedGpus;
            var cycle = scheduler.RunCycle(id);
            if (cycle.Placements.Count == 0)
            {
                atFirstRefusal ??= 1 - allocated / fleet.TotalGpus;
                scheduler.End(id, id);
                continue;
            }
            var placed = cycle.Placements[0].GpuEquivalents;
            allocated += placed;
            var isFractional = drawn.Slice is not null;
            held.Add(id, (isFractional, placed));
            if (isFractional)
            {
                fractional++;
                fractionalHeld += placed;
            }
        }
        var (free, fragmented) = scheduler.Fragmentation();
        return new SaturationResult(packing, slices, seed, held.Count, 1 - allocated / fleet.TotalGpus, free > 0 ? fragmented / free : 0,
            fractional, fractionalHeld, scheduler.StrandedGpus())
        {
            Held = held,
            UnallocatedAtFirstRefusal = atFirstRefusal ?? 1 - allocated / fleet.TotalGpus,
        };
    }

    private static JobSpec Spec(long id, RequestShape shape, long submitTime) => new(id, "mix", shape.Gpus, [], TopologyNeed.Site, NeverEnds, 0, submitTime)
    {
        Slice = shape.Slice,
        CpusPerGpu = shape.CpusPerGpu,
        MemoryGbPerGpu = shape.MemoryGbPerGpu,
    };

    /// <summary>
    /// The cut in GPU-equivalents held by fractional jobs that slices give against rounding them up, over the
    /// jobs both runs placed (the same requests, in the same order): 1 − held with slices / held rounded up.
    /// </summary>
    public static double FractionalCut(SaturationResult withSlices, SaturationResult roundedUp)
    {
        double sliced = 0, rounded = 0;
        foreach (var (id, (fractional, held)) in withSlices.Held)
        {
            if (!fractional || !roundedUp.Held.TryGetValue(id, out var other)) continue;
            sliced += held;
            rounded += other.Held;
        }
        return rounded > 0 ? 1 - sliced / rounded : 0;
    }
}
