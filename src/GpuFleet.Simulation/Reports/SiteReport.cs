namespace GpuFleet.Simulation.Reports;

/// <summary>One site's power and energy in a run (facility power: IT power × PUE).</summary>
public sealed record SiteReport(string Site, string Owner, int Gpus, double Utilization, double EnergyKwh, double MeanPowerMw, double PeakPowerMw, double PowerCapMw);
