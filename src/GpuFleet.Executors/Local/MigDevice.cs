namespace GpuFleet.Executors.Local;

/// <summary>One MIG instance as <c>nvidia-smi -L</c> lists it.</summary>
/// <param name="Gpu">The index of the GPU it is on.</param>
/// <param name="Profile">Its profile (<c>1g.10gb</c>).</param>
/// <param name="Device">Its device number on that GPU.</param>
/// <param name="Uuid">Its UUID (<c>MIG-4f1e…</c>), which <c>CUDA_VISIBLE_DEVICES</c> takes.</param>
public sealed record MigDevice(int Gpu, string Profile, int Device, string Uuid);
