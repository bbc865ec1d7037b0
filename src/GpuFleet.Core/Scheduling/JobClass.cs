using GpuFleet.Core.Decisions;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Jobs that place alike: same size, acceptable models and topology need. If one member does not fit
/// in a cycle, no other member can either (capacity only shrinks within a cycle), so the cycle skips
/// the rest of the class in O(1) — the equivalence-class trick that halved Armada's cycle.
/// A "short" job (one that ends before the reservation's shadow time) may also use held GPUs, so it
/// fails separately from long jobs of its class.
/// </summary>
internal sealed class JobClass
{
    public required int Id { get; init; }
    public required int Gpus { get; init; }
    public required ulong ModelMask { get; init; }
    public required TopologyNeed Need { get; init; }
    /// <summary>Candidate pools, in fleet order.</summary>
    public required int[] Pools { get; init; }
    /// <summary>Level in each candidate pool (same positions as <see cref="Pools"/>).</summary>
    public required PlacementLevel[] Levels { get; init; }
    /// <summary>Site preference in each candidate pool (0 best: the data's site, then by link bandwidth from it; or the position of the pool's site in <see cref="Sites"/>).</summary>
    public required int[] Preference { get; init; }
    /// <summary>Site the class is pinned to, or -1.</summary>
    public required int Site { get; init; }
    /// <summary>Site of the class's data, or -1.</summary>
    public required int DataSite { get; init; }
    /// <summary>Sites the class may run at, most preferred first (its <see cref="Preference"/> is the position here); null: any.</summary>
    public int[]? Sites { get; init; }
    /// <summary>Position of each fleet pool in <see cref="Pools"/>, or -1.</summary>
    public required int[] PoolPosition { get; init; }
    /// <summary>CPU and memory per GPU (or per slice) on the node it is on.</summary>
    public NodeDemand Demand { get; init; }
    /// <summary>The slice each member of the gang takes, resolved per model; null: whole GPUs.</summary>
    public SliceShape? Slice { get; init; }
    /// <summary>Compute units (<see cref="Fleets.GpuSharing.UnitsPerGpu"/> per GPU) a member holds on each model: what quotas, fair share and grants count.</summary>
    public required long[] UnitsByModel { get; init; }
    /// <summary>Whether a member can ever run on the fleet, and if not, why.</summary>
    public string? ImpossibleReason { get; init; }

    public int PendingCount;
    /// <summary>Members submitted so far: the mix of requests that fragmentation is measured against.</summary>
    public long Submitted;
    public long LongFailEpoch = -1;
    public long ShortFailEpoch = -1;
    /// <summary>A search for victims for this class found none; the next one waits until this time.</summary>
    public long NoVictimsUntil = long.MinValue;
    public PendingReason FailReason;
    public long? FailBlockingJob;
}
