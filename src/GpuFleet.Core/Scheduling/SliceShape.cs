using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// A slice request resolved against each GPU model of the fleet: on which models it can run, as which
/// MIG profile or as what share of a time-shared GPU, and what it counts for.
/// <para>Example: <c>0.25:20</c> (a quarter of a GPU, 20 GB) on a time-sharing B200 is 210 units of 840 and
/// 20 GB of its 180; on an H100 with MIG only it becomes the smallest profile with ≥ 25% of the compute and
/// ≥ 20 GB — 2g.20gb (2 of 7 slices, 240 units), or any larger instance that is free (a 3g.40gb: then it holds,
/// and is charged, 3 of 7).</para>
/// </summary>
internal sealed class SliceShape
{
    private readonly SliceFit[] _byModel;

    public SliceShape(SliceRequest request, Fleet fleet)
    {
        Request = request;
        _byModel = new SliceFit[fleet.Models.Count];
        for (var m = 0; m < fleet.Models.Count; m++) _byModel[m] = Resolve(request, fleet.Models[m]);
    }

    public SliceRequest Request { get; }

    /// <summary>How the slice runs on a model; <see cref="SliceFit.Serves"/> false where it cannot.</summary>
    public SliceFit On(int model) => _byModel[model];

    /// <summary>The text by which classes of the same slice are told apart.</summary>
    public string Key => Request.ToString();

    private static SliceFit Resolve(SliceRequest request, GpuModel model)
    {
        if (model.Sharing is not { } sharing) return default;
        if (request.MigProfile is { } name)
        {
            var profile = sharing.Profile(name);
            return profile is null ? default : MigFit(sharing, profile);
        }
        var memoryMb = (long)Math.Ceiling(request.GpuMemoryGb * 1000 - 1e-6);
        if (sharing.TimeSharing)
        {
            if (memoryMb > (long)(model.MemoryGb * 1000)) return default;
            var units = (int)Math.Clamp(Math.Round(request.GpuFraction * GpuSharing.UnitsPerGpu), 1, GpuSharing.UnitsPerGpu);
            return new SliceFit(true, null, sharing, units, memoryMb, 0);
        }
        // MIG only: the smallest profile (fewest compute slices, then least memory) that covers the request.
        MigProfile? best = null;
        foreach (var p in sharing.MigProfiles)
        {
            if ((double)p.ComputeSlices / sharing.ComputeSlices < request.GpuFraction - 1e-9 || p.MemoryGb < request.GpuMemoryGb) continue;
            if (best is null || p.ComputeSlices < best.ComputeSlices || (p.ComputeSlices == best.ComputeSlices && p.MemoryGb < best.MemoryGb)) best = p;
        }
        return best is null ? default : MigFit(sharing, best) with
        {
            Covering = true,
            MinComputeSlices = (int)Math.Ceiling(request.GpuFraction * sharing.ComputeSlices - 1e-9),
            MinMemoryGb = request.GpuMemoryGb,
        };
    }

    private static SliceFit MigFit(GpuSharing sharing, MigProfile profile) =>
        new(true, profile, sharing, sharing.UnitsOf(profile), (long)Math.Round(profile.MemoryGb * 1000), sharing.MostOf(profile));
}
