namespace GpuFleet.Server.Storage;

/// <summary>A stretch of time a tenant's job held <see cref="Gpus"/> GPUs of a model at a site.</summary>
public sealed record RunInterval(string Tenant, int Gpus, string Site, string Model, double Seconds);
