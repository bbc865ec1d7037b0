namespace GpuFleet.Simulation.Charts;

/// <summary>One chart comparing policies, as SVG text: its file name (<c>utilization.svg</c>), title and markup.</summary>
public sealed record PolicyChart(string File, string Title, string Svg);
