using GpuFleet.Core.Scheduling;

namespace GpuFleet.Simulation.Benchmarking;

/// <summary>One run of <see cref="SaturationExperiment"/>.</summary>
/// <param name="Packing">How slices were packed.</param>
/// <param name="Slices">Whether slices were on (off: every fractional request rounded up to a whole GPU).</param>
/// <param name="Seed">The draw of requests.</param>
/// <param name="JobsPlaced">Jobs placed.</param>
/// <param name="UnallocatedShare">Share of the fleet's GPU capacity (GPU-equivalents) no job held when the requests reached the capacity.</param>
/// <param name="FragmentedShare">Share of the free capacity then that the mix could not use (the fragmentation measure).</param>
/// <param name="FractionalJobs">Fractional requests among the jobs placed.</param>
/// <param name="FractionalGpuEquivalents">GPU-equivalents those jobs held (a MIG profile counts its compute share; rounded up: 1 per job).</param>
/// <param name="StrandedGpus">Free GPUs no waiting job could take for lack of CPU or memory, at the end.</param>
public sealed record SaturationResult(SlicePacking Packing, bool Slices, int Seed, int JobsPlaced, double UnallocatedShare, double FragmentedShare,
    int FractionalJobs, double FractionalGpuEquivalents, int StrandedGpus)
{
    /// <summary>Share of the capacity no job held when the first request was refused.</summary>
    public double UnallocatedAtFirstRefusal { get; init; }

    /// <summary>Per placed job (by its draw's number): whether it was fractional and the GPU-equivalents it held.</summary>
    public IReadOnlyDictionary<long, (bool Fractional, double Held)> Held { get; init; } = new Dictionary<long, (bool, double)>();
}
