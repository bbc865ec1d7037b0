namespace GpuFleet.Core.Fleets;

/// <summary>A fleet that contradicts itself (unknown site or model, duplicate names, impossible sizes).</summary>
public sealed class FleetValidationException(string field, string message) : Exception($"{field}: {message}")
{
    /// <summary>The field at fault, as a path such as <c>pools[3].model</c>.</summary>
    public string Field { get; } = field;
}
