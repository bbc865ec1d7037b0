namespace GpuFleet.Simulation.Reports;

/// <summary>One owner's tenants together.</summary>
public sealed record OwnerReport(string Owner, int Jobs, double GpuHours, double MeanWaitSeconds, double P99WaitSeconds, double BorrowedGpuHours, double LentGpuHours);
