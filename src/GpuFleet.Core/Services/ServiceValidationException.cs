namespace GpuFleet.Core.Services;

/// <summary>A service that cannot run on the fleet, with the service (its position in the list given) and the field at fault.</summary>
public sealed class ServiceValidationException(int index, string field, string problem)
    : Exception($"services[{index}].{field}: {problem}")
{
    /// <summary>Position of the service in the list given.</summary>
    public int Index { get; } = index;
    /// <summary>The field at fault (<c>region</c>, <c>gpusPerReplica</c>, ...).</summary>
    public string Field { get; } = field;
    /// <summary>What is wrong.</summary>
    public string Problem { get; } = problem;
}
