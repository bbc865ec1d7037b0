namespace GpuFleet.Core.Fleets;

/// <summary>A network link between two sites.</summary>
public sealed record SiteLink(string From, string To, double Gbps)
{
    /// <summary>One-way latency over the link in milliseconds (for services with a latency budget); 0: not stated.</summary>
    public double LatencyMs { get; init; }
}
