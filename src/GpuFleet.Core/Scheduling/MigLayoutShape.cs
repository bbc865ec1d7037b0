using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// A MIG layout with each instance's profile and compute units looked up once. <see cref="SharedGpu"/>s laid out
/// alike share one: fragmentation-aware packing lays out a trial GPU for every candidate node and layout, and
/// looking the profiles up again each time was most of a slice placement's cost.
/// </summary>
/// <param name="Instances">The instances, in the layout's order.</param>
/// <param name="Profiles">Each instance's profile (same positions).</param>
/// <param name="Units">Each instance's compute units (same positions).</param>
internal sealed record MigLayoutShape(MigInstance[] Instances, MigProfile[] Profiles, int[] Units)
{
    /// <summary>The shape of <paramref name="layout"/> on GPUs shared as <paramref name="sharing"/>.</summary>
    public static MigLayoutShape Of(IReadOnlyList<MigInstance> layout, GpuSharing sharing)
    {
        var instances = layout.ToArray();
        var profiles = new MigProfile[instances.Length];
        var units = new int[instances.Length];
        for (var i = 0; i < instances.Length; i++)
        {
            profiles[i] = sharing.Profile(instances[i].Profile)!;
            units[i] = sharing.UnitsOf(profiles[i]);
        }
        return new MigLayoutShape(instances, profiles, units);
    }
}
