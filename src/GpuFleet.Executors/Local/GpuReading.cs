namespace GpuFleet.Executors.Local;

/// <summary>The local machine's GPUs at one moment.</summary>
/// <param name="Gpus">Each GPU, by index.</param>
/// <param name="Problems">What could not be read (a malformed line of <c>nvidia-smi</c>, why no GPU was found), for the server's log; empty when all was read.</param>
/// <param name="Virtual">True when no GPU was found and <see cref="Gpus"/> are the configured stand-ins.</param>
public sealed record GpuReading(IReadOnlyList<GpuTelemetry> Gpus, IReadOnlyList<string> Problems, bool Virtual = false);
