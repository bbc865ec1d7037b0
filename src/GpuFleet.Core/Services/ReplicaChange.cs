namespace GpuFleet.Core.Services;

/// <summary>One change <see cref="ServiceFleet"/> made to a service's replicas, already applied to the scheduler.</summary>
/// <param name="Service">Position of the service in <see cref="ServiceFleet.Services"/>.</param>
/// <param name="JobId">The replica's job id (in <see cref="ServiceFleet"/>'s range of replica ids).</param>
/// <param name="Kind">Submitted, ended or refused.</param>
/// <param name="Time">When, on the scheduler's clock.</param>
public sealed record ReplicaChange(int Service, long JobId, ReplicaChangeKind Kind, long Time)
{
    /// <summary>For an ended replica: whether it held GPUs (placed) rather than waited; an executor stops a placed one's run.</summary>
    public bool WasPlaced { get; init; }
    /// <summary>For a refused replica: the scheduler's reason.</summary>
    public string? Error { get; init; }
}
