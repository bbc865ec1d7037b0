using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// A GPU that runs slices: taken whole from <see cref="ClusterState"/> while it has any, given back when its
/// last slice ends. A MIG GPU has a layout of instances, each free or held by one job; a time-shared GPU
/// has a budget of compute units and memory that its jobs' shares add up to.
/// </summary>
internal sealed class SharedGpu(int node, int gpu, int pool, GpuSharing sharing, long memoryMb)
{
    public int Node { get; } = node;
    public int Gpu { get; } = gpu;
    public int Pool { get; } = pool;
    public GpuSharing Sharing { get; } = sharing;
    public long MemoryMb { get; } = memoryMb;
    /// <summary>The MIG layout; empty for a time-shared GPU.</summary>
    public MigInstance[] Layout { get; private set; } = [];
    /// <summary>Each instance's profile (same positions as <see cref="Layout"/>).</summary>
    public MigProfile[] InstanceProfiles { get; private set; } = [];
    /// <summary>Units of each instance's profile (same positions as <see cref="Layout"/>).</summary>
    public int[] InstanceUnits { get; private set; } = [];
    /// <summary>The job on each instance, or 0 (same positions as <see cref="Layout"/>).</summary>
    public long[] Occupant { get; private set; } = [];
    public bool IsMig => Layout.Length > 0;
    public int UsedUnits { get; private set; }
    public long UsedMemoryMb { get; private set; }
    public int Jobs { get; private set; }
    /// <summary>When a layout change ends: slices placed before then start then.</summary>
    public long ReadyAt { get; set; }
    /// <summary>Position in its pool's list (swap-remove).</summary>
    public int Slot { get; set; } = -1;

    /// <summary>Lays the GPU out as <paramref name="shape"/>, whose arrays it shares (they are never changed in place).</summary>
    public void SetLayout(MigLayoutShape shape)
    {
        if (Jobs > 0) throw new InvalidOperationException($"node {Node} GPU {Gpu}: a MIG layout changes only while the GPU is idle");
        Layout = shape.Instances;
        InstanceProfiles = shape.Profiles;
        InstanceUnits = shape.Units;
        Occupant = new long[shape.Instances.Length];
    }

    /// <summary>Free compute units: the whole GPU less its jobs' shares (a MIG compute slice no instance covers counts as free).</summary>
    public int FreeUnits => GpuSharing.UnitsPerGpu - UsedUnits;
    public long FreeMemoryMb => MemoryMb - UsedMemoryMb;

    /// <summary>The free instance a slice takes: the smallest that serves it (fewest units, then first), or -1.</summary>
    public int FreeInstance(in SliceFit fit)
    {
        var best = -1;
        for (var i = 0; i < Layout.Length; i++)
            if (Occupant[i] == 0 && fit.Accepts(InstanceProfiles[i]) && (best < 0 || InstanceUnits[i] < InstanceUnits[best])) best = i;
        return best;
    }

    /// <summary>Free instances that serve the slice.</summary>
    public int FreeInstances(in SliceFit fit)
    {
        var n = 0;
        for (var i = 0; i < Layout.Length; i++) if (Occupant[i] == 0 && fit.Accepts(InstanceProfiles[i])) n++;
        return n;
    }

    /// <summary>Free units in instances that serve the slice.</summary>
    public int FreeUnitsServing(in SliceFit fit)
    {
        var units = 0;
        for (var i = 0; i < Layout.Length; i++) if (Occupant[i] == 0 && fit.Accepts(InstanceProfiles[i])) units += InstanceUnits[i];
        return units;
    }

    /// <summary>How many more slices of this fit now.</summary>
    public int Room(in SliceFit fit)
    {
        if (fit.Profile is not null) return IsMig ? FreeInstances(fit) : 0;
        if (IsMig) return 0;
        var byMemory = fit.MemoryMb <= 0 ? int.MaxValue : FreeMemoryMb / fit.MemoryMb;
        return (int)Math.Min(FreeUnits / fit.Units, byMemory);
    }

    /// <summary>Takes one slice for a job; returns the instance index (MIG) or -1 (time-shared).</summary>
    public int Take(long job, in SliceFit fit)
    {
        var instance = -1;
        if (fit.Profile is { } profile)
        {
            instance = FreeInstance(fit);
            if (instance < 0) throw new InvalidOperationException($"node {Node} GPU {Gpu}: no free instance serves {profile.Name}");
            Occupant[instance] = job;
        }
        else if (IsMig || fit.Units > FreeUnits || fit.MemoryMb > FreeMemoryMb)
        {
            throw new InvalidOperationException($"node {Node} GPU {Gpu}: no room for a share of {fit.Units} units and {fit.MemoryMb} MB");
        }
        UsedUnits += UnitsOf(instance, fit);
        UsedMemoryMb += MemoryMbOf(instance, fit);
        Jobs++;
        return instance;
    }

    /// <summary>
    /// Whether the instance a running job holds (reported after a change of leader) may join this GPU's layout:
    /// null when it may, else why not (it overlaps an instance the layout has, or the layout would not be one the
    /// GPU allows). A GPU taken up this way knows only the instances its adopted jobs hold.
    /// </summary>
    public string? AdoptionProblem(IEnumerable<MigInstance> instances) => Sharing.LayoutProblem([.. Layout, .. instances]);

    /// <summary>
    /// Adds the instance a running job holds to the layout, occupied by that job (a new leader taking up a run
    /// that survived it: the GPU is not idle, but the instance exists). Returns its index.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layout with it is not one the GPU allows.</exception>
    public int AdoptInstance(long job, MigInstance instance)
    {
        if (AdoptionProblem([instance]) is { } problem) throw new InvalidOperationException($"node {Node} GPU {Gpu}: {problem}");
        var profile = Sharing.Profile(instance.Profile)!;
        Layout = [.. Layout, instance];
        InstanceProfiles = [.. InstanceProfiles, profile];
        InstanceUnits = [.. InstanceUnits, Sharing.UnitsOf(profile)];
        Occupant = [.. Occupant, job];
        UsedUnits += InstanceUnits[^1];
        UsedMemoryMb += MemoryMbOf(Layout.Length - 1, default);
        Jobs++;
        return Layout.Length - 1;
    }

    public void Give(long job, int instance, in SliceFit fit)
    {
        if (instance >= 0)
        {
            if (Occupant[instance] != job) throw new InvalidOperationException($"node {Node} GPU {Gpu}: instance {instance} is not job {job}'s");
            Occupant[instance] = 0;
        }
        UsedUnits -= UnitsOf(instance, fit);
        UsedMemoryMb -= MemoryMbOf(instance, fit);
        Jobs--;
    }

    /// <summary>Units a slice holds: its instance's (MIG), or its share (time-shared).</summary>
    public int UnitsOf(int instance, in SliceFit fit) => instance >= 0 ? InstanceUnits[instance] : fit.Units;

    /// <summary>Memory a slice holds in MB: its instance's (MIG), or what it asked for (time-shared).</summary>
    public long MemoryMbOf(int instance, in SliceFit fit) => instance >= 0 ? (long)Math.Round(InstanceProfiles[instance].MemoryGb * 1000) : fit.MemoryMb;
}
