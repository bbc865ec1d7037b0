using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Benchmarking;
using Xunit.Abstractions;

namespace GpuFleet.Simulation.Tests;

public sealed class SaturationExperimentTests(ITestOutputHelper output)
{
    /// <summary>
    /// PAI-like node shapes (2-GPU nodes of 64 cores and 8-GPU nodes of 96 cores, 512 GB each), GPUs with the
    /// H100's MIG geometry and time-sharing off: fractional requests take the smallest covering profile.
    /// </summary>
    internal static Fleet MixedNodes(bool timeSharing = false)
    {
        var sharing = new GpuSharing(7, 8,
        [
            new MigProfile("1g.10gb", 1, 1, 10, [0, 1, 2, 3, 4, 5, 6]),
            new MigProfile("1g.20gb", 1, 2, 20, [0, 2, 4, 6]),
            new MigProfile("2g.20gb", 2, 2, 20, [0, 2, 4]),
            new MigProfile("3g.40gb", 3, 4, 40, [0, 4]),
            new MigProfile("4g.40gb", 4, 4, 40, [0]),
            new MigProfile("7g.80gb", 7, 8, 80, [0]),
        ], timeSharing, 60);
        var model = new GpuModel("H100", 80, 700, 100, 1) { Sharing = sharing };
        return new Fleet("mixed", [model], [new Site("s1", "o", "r", 100, 1.2)],
        [
            new GpuPoolSpec("s1", "H100", 8, 1, 12, 0) { CpusPerNode = 96, MemoryGbPerNode = 512 },
            new GpuPoolSpec("s1", "H100", 2, 1, 16, 0) { CpusPerNode = 64, MemoryGbPerNode = 512, NodeNames = "small-{01}" },
        ]);
    }

    [Fact]
    public void Runs_until_the_first_refusal_and_accounts_what_was_held()
    {
        var fleet = MixedNodes();
        var result = SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.BestFit, slices: true, seed: 3);
        Assert.True(result.JobsPlaced > 20);
        Assert.InRange(result.UnallocatedShare, 0, 1);
        Assert.Equal(result.JobsPlaced, result.Held.Count);
        // What the placed jobs held plus what is unallocated is the whole fleet.
        var held = result.Held.Values.Sum(h => h.Held);
        Assert.Equal(fleet.TotalGpus, held + result.UnallocatedShare * fleet.TotalGpus, 6);
    }

    [Fact]
    public void The_same_seed_draws_the_same_requests_and_gives_the_same_result()
    {
        var fleet = MixedNodes();
        var a = SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.FragmentationAware, true, 7);
        var b = SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.FragmentationAware, true, 7);
        Assert.Equal(a.JobsPlaced, b.JobsPlaced);
        Assert.Equal(a.UnallocatedShare, b.UnallocatedShare);
    }

    [Theory]
    [InlineData(History)]
    [InlineData(0)]
    public void Slices_hold_less_than_rounding_up_and_packings_are_compared_on_the_same_requests(int history)
    {
        var fleet = MixedNodes();
        var rows = new List<(string, double)>();
        var firstRefusal = new List<double>();
        foreach (var (packing, slices) in new[] { (SlicePacking.BestFit, true), (SlicePacking.WorstFit, true), (SlicePacking.FragmentationAware, true), (SlicePacking.BestFit, false) })
        {
            var runs = Enumerable.Range(1, 5).Select(s => SaturationExperiment.Run(fleet, RequestMix.Pai2020, packing, slices, s, history)).ToList();
            var mean = runs.Average(r => r.UnallocatedShare);
            var first = runs.Average(r => r.UnallocatedAtFirstRefusal);
            output.WriteLine($"   at first refusal {first:P1}, fragmentation {runs.Average(r => r.FragmentedShare):P1}");
            rows.Add(($"{packing}{(slices ? "" : " rounded up")}", mean));
            firstRefusal.Add(first);
            output.WriteLine($"{packing,-20} slices={slices}: unallocated {mean:P1}");
        }
        var cut = Enumerable.Range(1, 5).Select(s => SaturationExperiment.FractionalCut(
            SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.BestFit, true, s),
            SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.BestFit, false, s))).Average();
        output.WriteLine($"fractional jobs hold {cut:P1} less with slices than rounded up");
        // Rounded up, a ½-GPU job holds 1; as a 4g.40gb it holds 4/7: the cut is well above 30%.
        Assert.True(cut >= 0.3, $"slices cut fractional jobs' GPU-equivalents by {cut:P1}");
        // Worst-fit spreads slices over whole GPUs: it leaves more unallocated than best-fit.
        Assert.True(rows[1].Item2 > rows[0].Item2, $"worst-fit {rows[1].Item2:P1} vs best-fit {rows[0].Item2:P1}");
        // Fragmentation-aware packing splits GPUs into layouts the mix can fill: at most half of best-fit's leftover.
        Assert.True(rows[2].Item2 <= 0.5 * rows[0].Item2, $"fragmentation-aware {rows[2].Item2:P1} vs best-fit {rows[0].Item2:P1}");
        // And when the first request is refused: it keeps room for the kinds of request it has seen (with no history,
        // those seen so far in the run).
        Assert.True(firstRefusal[2] <= 0.5 * firstRefusal[0], $"at first refusal: fragmentation-aware {firstRefusal[2]:P1} vs best-fit {firstRefusal[0]:P1}");
    }

    // Requests of the mix the scheduler has seen before (a scheduler in service knows its workload).
    private const int History = 1000;

    [Theory]
    [InlineData(SlicePacking.BestFit)]
    [InlineData(SlicePacking.WorstFit)]
    public void Only_fragmentation_aware_packing_reads_the_history(SlicePacking packing)
    {
        var fleet = MixedNodes();
        var cold = SaturationExperiment.Run(fleet, RequestMix.Pai2020, packing, true, 4);
        var warm = SaturationExperiment.Run(fleet, RequestMix.Pai2020, packing, true, 4, History);
        Assert.Equal(cold.Held, warm.Held);
        Assert.Equal(cold.UnallocatedAtFirstRefusal, warm.UnallocatedAtFirstRefusal);
    }

    [Fact]
    public void The_history_places_nothing_and_changes_what_fragmentation_aware_packing_chooses()
    {
        var fleet = MixedNodes();
        var cold = Enumerable.Range(1, 5).Select(s => SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.FragmentationAware, true, s)).ToList();
        var warm = Enumerable.Range(1, 5).Select(s => SaturationExperiment.Run(fleet, RequestMix.Pai2020, SlicePacking.FragmentationAware, true, s, History)).ToList();
        // Everything held at the end is the experiment's own (ids 1 up), and the fleet's books add up as without a history.
        foreach (var run in warm)
        {
            Assert.All(run.Held.Keys, id => Assert.InRange(id, 1, 1_000_000));
            Assert.Equal(fleet.TotalGpus, run.Held.Values.Sum(h => h.Held) + run.UnallocatedShare * fleet.TotalGpus, 6);
        }
        Assert.Contains(Enumerable.Range(0, 5), i => !cold[i].Held.Keys.SequenceEqual(warm[i].Held.Keys) || cold[i].UnallocatedShare != warm[i].UnallocatedShare);
    }
}
