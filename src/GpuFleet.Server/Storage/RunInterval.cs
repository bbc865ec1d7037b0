namespace GpuFleet.Server.Storage;

/// <summary>A stretch of time a tenant's job held <see cref="Gpus"/> GPU-equivalents (whole GPUs, or its slices' shares of compute) of a model at a site.</summary>
public sealed record RunInterval(string Tenant, double Gpus, string Site, string Model, double Seconds);
