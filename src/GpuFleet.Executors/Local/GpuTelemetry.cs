namespace GpuFleet.Executors.Local;

/// <summary>One GPU of the local machine as <c>nvidia-smi</c> reports it; a figure the driver does not give (<c>[N/A]</c>) is null.</summary>
/// <param name="Index">The driver's index (the order of PCI bus ids, which CUDA follows with <c>CUDA_DEVICE_ORDER=PCI_BUS_ID</c>).</param>
/// <param name="Name">The model as the driver names it (<c>NVIDIA H100 80GB HBM3</c>); <c>virtual</c> for a GPU that stands in where none is found.</param>
/// <param name="MemoryMiB">Total memory in MiB.</param>
/// <param name="TemperatureC">Core temperature in °C.</param>
/// <param name="PowerW">Power draw in W.</param>
/// <param name="UtilizationPercent">Share of the last sample period a kernel ran, 0 to 100.</param>
public sealed record GpuTelemetry(int Index, string Name, double? MemoryMiB = null, double? TemperatureC = null, double? PowerW = null, double? UtilizationPercent = null);
