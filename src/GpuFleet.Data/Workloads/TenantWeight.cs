namespace GpuFleet.Data.Workloads;

/// <summary>A tenant of a fitted trace and its share of the jobs.</summary>
public sealed record TenantWeight(string Tenant, double Weight);
