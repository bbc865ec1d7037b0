namespace GpuFleet.Server.Storage;

/// <summary>One scale decision of the leader for a service: what it wanted, and what it did to get there.</summary>
/// <param name="At">When.</param>
/// <param name="RequestsPerSecond">The rate it scaled for.</param>
/// <param name="PinnedReplicas">The manual replica count in force, if any (the rate then does not count).</param>
/// <param name="DesiredReplicas">Replicas wanted.</param>
/// <param name="Submitted">Replicas submitted.</param>
/// <param name="Ended">Replicas ended.</param>
/// <param name="Refused">Why the scheduler refused a replica, when it did (the service stays short of it).</param>
public sealed record ServiceDecision(DateTimeOffset At, double RequestsPerSecond, int? PinnedReplicas, int DesiredReplicas, int Submitted, int Ended, string? Refused = null);
