namespace GpuFleet.Simulation.Reports;

/// <summary>Averages over one sampling interval starting at <see cref="TimeSeconds"/>.</summary>
public sealed record TimeSeriesSample(long TimeSeconds, double Utilization, double QueueLength, double PowerMw, double[] SitePowerMw);
