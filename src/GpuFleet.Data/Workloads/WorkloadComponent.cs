namespace GpuFleet.Data.Workloads;

/// <summary>One fitted source of jobs (e.g. Philly-like research jobs, Kalos-like LLM gangs).</summary>
/// <param name="Name">Component name.</param>
/// <param name="Source">The trace it was fitted to, with its licence.</param>
/// <param name="GpuTimeShare">Share of the generated GPU-time that comes from this component.</param>
/// <param name="Sizes">Job sizes with weights and run-time quantiles.</param>
/// <param name="Tenants">Tenants and their share of jobs.</param>
/// <param name="HourlyArrivalWeights">24 weights: the share of arrivals in each hour of the day.</param>
public sealed record WorkloadComponent(string Name, string Source, double GpuTimeShare, IReadOnlyList<SizeClass> Sizes,
    IReadOnlyList<TenantWeight> Tenants, double[] HourlyArrivalWeights);
