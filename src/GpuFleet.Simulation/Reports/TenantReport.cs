namespace GpuFleet.Simulation.Reports;

/// <summary>One tenant's figures in a run.</summary>
public sealed record TenantReport(string Tenant, int Jobs, double GpuHours, double MeanWaitSeconds, double P99WaitSeconds, double MeanJctSeconds);
