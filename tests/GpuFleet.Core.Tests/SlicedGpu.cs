using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Tests;

/// <summary>
/// The shared GPU the slice property tests run on: an 80 GB model with seven compute slices, split by MIG
/// (profiles after an H100's) or time-shared, and the kinds of request their random jobs make of it.
/// </summary>
internal static class SlicedGpu
{
    public static readonly MigProfile[] Profiles =
    [
        new("1g.10gb", 1, 1, 10, [0, 1, 2, 3, 4, 5, 6]),
        new("1g.20gb", 1, 2, 20, [0, 2, 4, 6]),
        new("2g.20gb", 2, 2, 20, [0, 2, 4]),
        new("3g.40gb", 3, 4, 40, [0, 4]),
        new("4g.40gb", 4, 4, 40, [0]),
        new("7g.80gb", 7, 8, 80, [0]),
    ];

    /// <summary>The model, split by MIG (<paramref name="mig"/>) or time-shared; a layout change takes 30 s.</summary>
    public static GpuModel Model(bool mig) => new("G", 80, 700, 100, 1) { Sharing = new GpuSharing(7, 8, mig ? Profiles : [], !mig, 30) };

    /// <summary>
    /// Kind 0: whole GPUs (null); 1: a fraction with memory in proportion; else a MIG profile on a MIG model, or a
    /// fraction with 10 GB on a time-shared one.
    /// </summary>
    public static SliceRequest? Request(int kind, double fraction, int profile, bool mig) => kind switch
    {
        0 => null,
        1 => new SliceRequest(null, fraction, Math.Max(1, Math.Round(fraction * 80))),
        _ => mig ? new SliceRequest(Profiles[profile].Name, 0, 0) : new SliceRequest(null, fraction, 10),
    };
}
