namespace GpuFleet.Core.Services;

/// <summary>What <see cref="ServiceFleet"/> did to one replica.</summary>
public enum ReplicaChangeKind
{
    /// <summary>A replica was submitted to the scheduler (scaling up): it waits to be placed.</summary>
    Submitted,
    /// <summary>A replica was ended (scaling down, or the service stopped): its GPUs are free at once.</summary>
    Ended,
    /// <summary>The scheduler refused a replica (<see cref="ReplicaChange.Error"/> says why): the service stays short of it.</summary>
    Rejected,
}
