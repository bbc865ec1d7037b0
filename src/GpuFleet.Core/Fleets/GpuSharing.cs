namespace GpuFleet.Core.Fleets;

/// <summary>
/// How one GPU model may be shared among jobs: hardware slices (MIG) with their profiles, and/or
/// time-sharing, where jobs get a fraction of the GPU's time and a part of its memory (the memory
/// cap: the memory of the jobs sharing a GPU never adds up to more than the GPU has).
/// <para>A MIG layout is a set of instances, each a profile at one of its placements; a layout is allowed
/// when no two instances cover the same memory slice and their compute slices add up to at most
/// <see cref="ComputeSlices"/>. Example (H100): 4g.40gb@0 + 3g.40gb@4 is allowed; 4g.40gb@0 + 4g.40gb
/// is not (4g may only start at 0); seven 1g.10gb@0..6 are allowed (the eighth memory slice stays unused).</para>
/// </summary>
/// <param name="ComputeSlices">Compute slices of the whole GPU under MIG (7 on A100/H100/B200).</param>
/// <param name="MemorySlices">Memory slices of the whole GPU under MIG (8 on A100/H100/B200).</param>
/// <param name="MigProfiles">The MIG profiles; empty: no MIG.</param>
/// <param name="TimeSharing">Whether jobs may share the GPU in time with a fraction and a memory size.</param>
/// <param name="ReconfigureSeconds">How long changing the GPU's MIG layout takes; the GPU must be idle for it.</param>
public sealed record GpuSharing(int ComputeSlices, int MemorySlices, IReadOnlyList<MigProfile> MigProfiles, bool TimeSharing, long ReconfigureSeconds)
{
    /// <summary>A GPU's compute in whole units: 840 is divisible by 1–8, so every MIG share (k of 7, k of 4...) is a whole number of units.</summary>
    public const int UnitsPerGpu = 840;

    /// <summary>Where the source for the profiles is, or the assumption they rest on (the fleet file states it).</summary>
    public string? Source { get; init; }

    /// <summary>The profile of this name, or null.</summary>
    public MigProfile? Profile(string name)
    {
        foreach (var p in MigProfiles) if (p.Name == name) return p;
        return null;
    }

    /// <summary>Compute units (of <see cref="UnitsPerGpu"/>) a profile's instance stands for: its share of the compute slices.</summary>
    public int UnitsOf(MigProfile profile) => UnitsPerGpu * profile.ComputeSlices / ComputeSlices;

    /// <summary>How many instances of a profile fit on one GPU (a layout of that profile alone).</summary>
    public int MostOf(MigProfile profile) => HomogeneousLayout(profile).Count;

    /// <summary>The layout of as many instances of <paramref name="profile"/> as fit, placed at its earliest placements first.</summary>
    public IReadOnlyList<MigInstance> HomogeneousLayout(MigProfile profile)
    {
        var layout = new List<MigInstance>();
        uint used = 0;
        var compute = 0;
        foreach (var start in profile.Placements)
        {
            var mask = profile.MaskAt(start);
            if ((used & mask) != 0 || compute + profile.ComputeSlices > ComputeSlices) continue;
            used |= mask;
            compute += profile.ComputeSlices;
            layout.Add(new MigInstance(profile.Name, start));
        }
        return layout;
    }

    /// <summary>
    /// Null when the instances form an allowed layout, else why not: an unknown profile, a start that is not
    /// one of the profile's placements, two instances on one memory slice, or more compute than the GPU has.
    /// </summary>
    public string? LayoutProblem(IReadOnlyList<MigInstance> layout)
    {
        uint used = 0;
        var compute = 0;
        foreach (var instance in layout)
        {
            var profile = Profile(instance.Profile);
            if (profile is null) return $"unknown MIG profile '{instance.Profile}' (known: {string.Join(", ", MigProfiles.Select(p => p.Name))})";
            if (!profile.Placements.Contains(instance.Start))
                return $"{instance.Profile} may start at memory slice {string.Join(" or ", profile.Placements)}, not {instance.Start}";
            var mask = profile.MaskAt(instance.Start);
            if ((used & mask) != 0) return $"{instance.Profile}@{instance.Start} overlaps another instance's memory slices";
            used |= mask;
            compute += profile.ComputeSlices;
            if (compute > ComputeSlices) return $"the instances take {compute} compute slices; the GPU has {ComputeSlices}";
        }
        return null;
    }

    /// <summary>
    /// Places profiles in order, each at its first free placement (how <c>nvidia-smi mig -cgi</c> without a
    /// placement places them); null when one finds no room, with <paramref name="problem"/> saying which.
    /// </summary>
    public IReadOnlyList<MigInstance>? Arrange(IReadOnlyList<string> profiles, out string? problem)
    {
        var layout = new List<MigInstance>();
        uint used = 0;
        var compute = 0;
        foreach (var name in profiles)
        {
            var profile = Profile(name);
            if (profile is null)
            {
                problem = $"unknown MIG profile '{name}' (known: {string.Join(", ", MigProfiles.Select(p => p.Name))})";
                return null;
            }
            var placed = false;
            foreach (var start in profile.Placements)
            {
                var mask = profile.MaskAt(start);
                if ((used & mask) != 0 || compute + profile.ComputeSlices > ComputeSlices) continue;
                used |= mask;
                compute += profile.ComputeSlices;
                layout.Add(new MigInstance(name, start));
                placed = true;
                break;
            }
            if (!placed)
            {
                problem = $"no room for {name} after {string.Join(" + ", layout.Select(i => $"{i.Profile}@{i.Start}"))}";
                return null;
            }
        }
        problem = null;
        return layout;
    }
}
