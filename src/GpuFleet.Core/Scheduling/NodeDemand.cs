namespace GpuFleet.Core.Scheduling;

/// <summary>
/// What a job needs of a node besides GPUs, per GPU (or per slice) it has there: CPU cores and memory.
/// Amounts for k GPUs are rounded up once, in milli-cores and MB, and computed the same way when taken
/// and when given back, so a node's books always balance.
/// </summary>
internal readonly record struct NodeDemand(double CpusPerGpu, double MemoryGbPerGpu)
{
    public static readonly NodeDemand None = new(0, 0);

    public bool IsNone => CpusPerGpu <= 0 && MemoryGbPerGpu <= 0;

    /// <summary>Milli-cores for <paramref name="count"/> GPUs.</summary>
    public long CpuMilli(int count) => CpusPerGpu <= 0 ? 0 : (long)Math.Ceiling(count * CpusPerGpu * 1000 - 1e-6);

    /// <summary>MB of memory for <paramref name="count"/> GPUs.</summary>
    public long MemoryMb(int count) => MemoryGbPerGpu <= 0 ? 0 : (long)Math.Ceiling(count * MemoryGbPerGpu * 1000 - 1e-6);
}
