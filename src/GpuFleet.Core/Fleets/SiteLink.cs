namespace GpuFleet.Core.Fleets;

/// <summary>A network link between two sites.</summary>
public sealed record SiteLink(string From, string To, double Gbps);
