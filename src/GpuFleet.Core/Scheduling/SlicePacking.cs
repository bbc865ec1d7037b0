namespace GpuFleet.Core.Scheduling;

/// <summary>Which GPU a slice goes to, among those that can take it.</summary>
public enum SlicePacking
{
    /// <summary>The least free capacity that still fits: fill shared GPUs before opening whole ones.</summary>
    BestFit,
    /// <summary>The most free capacity: spread slices (opens whole GPUs first).</summary>
    WorstFit,
    /// <summary>
    /// The choice that adds the least fragmentation: the expected free GPU capacity that the mix of requests
    /// seen so far could not use (fragmentation gradient descent, Weng et al., USENIX ATC 2023).
    /// </summary>
    FragmentationAware,
}
