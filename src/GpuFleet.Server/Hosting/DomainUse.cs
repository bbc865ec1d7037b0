namespace GpuFleet.Server.Hosting;

/// <summary>One NVLink domain of a pool now: its first and last node, its GPUs, and how many are busy or out of service.</summary>
public sealed record DomainUse(string FirstNode, string LastNode, int Gpus, int BusyGpus, int OutOfServiceGpus);
