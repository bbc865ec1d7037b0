using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>A new leader taking up jobs of GPU slices that run on a cluster, on the instances and shares they hold.</summary>
[Trait("Category", "Unit")]
public sealed class SliceAdoptionTests
{
    private static readonly MigProfile[] Profiles = [new("1g.10gb", 1, 1, 10, [0, 1, 2, 3, 4, 5, 6]), new("3g.40gb", 3, 4, 40, [0, 4])];

    // Two nodes of 8 GPUs, split by MIG or shared in time.
    private static Fleet SharedFleet(bool mig)
    {
        var model = new GpuModel("G", 80, 700, 100, 1) { Sharing = new GpuSharing(7, 8, mig ? Profiles : [], !mig, 30) };
        return new Fleet("t", [model], [new Site("s", "o", "r", 10, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 2, 0)]);
    }

    private static JobSpec Sliced(long id, int slices, SliceRequest slice) => new(id, "a", slices, [], TopologyNeed.Site, 10_000, 0, 0) { Slice = slice };

    private static SliceRequest Mig(string profile) => new(profile, 0, 0);

    [Fact]
    public void Mig_slices_are_taken_up_on_their_instances_and_the_gpu_takes_no_new_slice_until_it_is_idle()
    {
        var s = new FleetScheduler(SharedFleet(mig: true));
        var adopted = s.Adopt(Sliced(9, 2, Mig("1g.10gb")), [new SlicePlacement(1, 3, "1g.10gb", 0, 1 / 7.0, 10), new SlicePlacement(1, 3, "1g.10gb", 1, 1 / 7.0, 10)], startedAt: 50);
        Assert.True(adopted.Accepted, adopted.Error);
        Assert.Equal(1UL << 3, s.NodeUsedMask(1));
        Assert.Equal([("1g.10gb", 0), ("1g.10gb", 1)], s.Slices(9).Select(x => (x.MigProfile, x.MigStart)));
        Assert.Equal((1, 1, 0), (s.SharedGpuCount, s.RunningCount, s.PendingCount));

        // An instance over one the GPU has is refused, and nothing changes; one beside them joins the GPU.
        var clash = s.Adopt(Sliced(10, 1, Mig("3g.40gb")), [new SlicePlacement(1, 3, "3g.40gb", 0, 3 / 7.0, 40)], 50);
        Assert.False(clash.Accepted);
        Assert.Contains("overlaps another instance", clash.Error);
        Assert.Equal((1, 0), (s.RunningCount, s.PendingCount));
        Assert.True(s.Submit(Sliced(10, 1, Mig("1g.10gb"))).Accepted, "the refused id left no trace");
        Assert.True(s.Adopt(Sliced(11, 1, Mig("3g.40gb")), [new SlicePlacement(1, 3, "3g.40gb", 4, 3 / 7.0, 40)], 50).Accepted);
        Assert.Equal(1, s.SharedGpuCount);

        // The 1g slice waiting goes to another GPU: the adopted one knows no free instance (its real layout's
        // others are not known), though 2 of its 7 compute slices are held by no instance it knows.
        var cycle = s.RunCycle(60);
        var placed = Assert.Single(cycle.Placements).Slices!.Single();
        Assert.NotEqual((1, 3), (placed.Node, placed.Gpu));

        // When the adopted jobs end, their GPU is free again.
        Assert.True(s.End(9, 100));
        Assert.True(s.End(11, 100));
        Assert.Equal(0UL, s.NodeUsedMask(1) & (1UL << 3));
    }

    [Fact]
    public void Time_shared_shares_are_taken_up_and_a_run_that_cannot_be_held_as_recorded_is_refused_whole()
    {
        var s = new FleetScheduler(SharedFleet(mig: false));
        var half = new SliceRequest(null, 0.5, 40);
        Assert.True(s.Adopt(Sliced(1, 2, half), [new SlicePlacement(0, 0, null, 0, 0.5, 40), new SlicePlacement(0, 0, null, 0, 0.5, 40)], 0).Accepted);
        Assert.Equal(1UL, s.NodeUsedMask(0));
        // GPU 0 is full: a quarter more does not fit there.
        Assert.Contains("no room", s.Adopt(Sliced(2, 1, new SliceRequest(null, 0.25, 10)), [new SlicePlacement(0, 0, null, 0, 0.25, 10)], 0).Error);
        // A whole-GPU run on GPU 1; a share recorded there is not free here.
        Assert.True(s.Adopt(new JobSpec(3, "a", 1, [], TopologyNeed.Site, 10_000, 0, 0), [new GpuAllocation(0, 0b10)], 0).Accepted);
        Assert.Contains("not free", s.Adopt(Sliced(4, 1, half), [new SlicePlacement(0, 1, null, 0, 0.5, 40)], 0).Error);
        // Slices over two nodes, a node the fleet has not, and whole GPUs asked of the slice path are refused.
        Assert.Contains("more than one node", s.Adopt(Sliced(5, 2, half), [new SlicePlacement(0, 2, null, 0, 0.5, 40), new SlicePlacement(1, 2, null, 0, 0.5, 40)], 0).Error);
        Assert.Contains("not in a pool", s.Adopt(Sliced(6, 1, half), [new SlicePlacement(-1, 0, null, 0, 0.5, 40)], 0).Error);
        Assert.Contains("whole GPUs", s.Adopt(new JobSpec(7, "a", 1, [], TopologyNeed.Site, 10_000, 0, 0), [new SlicePlacement(0, 2, null, 0, 0.5, 40)], 0).Error);
        Assert.Contains("adopted with its slices", s.Adopt(Sliced(8, 1, half), [new GpuAllocation(0, 0b100)], 0).Error);
        Assert.Equal((2, 0, 0b11UL), (s.RunningCount, s.PendingCount, s.NodeUsedMask(0)));
        Assert.Equal(0UL, s.NodeUsedMask(1));
    }
}
