using GpuFleet.Core.Services;

namespace GpuFleet.Data.Workloads;

/// <summary>
/// A service made by <see cref="ServiceGenerator"/>: its spec and how it plays the shared rate curve.
/// </summary>
/// <param name="Spec">The service.</param>
/// <param name="Scale">Multiplies every rate of the curve.</param>
/// <param name="ShiftSeconds">Added to every time of the curve (0 or less: the service starts part-way into its day).</param>
/// <param name="PeakGpus">GPU-equivalents its replicas take at the curve's peak (slices as their share of compute).</param>
public sealed record GeneratedService(ServiceSpec Spec, double Scale, long ShiftSeconds, double PeakGpus);
