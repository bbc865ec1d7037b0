namespace GpuFleet.Simulation.Reports;

/// <summary>
/// How one inference service fared in a run, from its first rate point to the end of the run. A replica
/// runs from its placement plus its start delay until it is evicted, lost or ended; a request is served
/// when the replicas running could take it at full load (<c>requestsPerSecondPerReplica</c> each).
/// </summary>
public sealed record ServiceReport
{
    /// <summary>Service name.</summary>
    public required string Service { get; init; }
    /// <summary>Its tenant.</summary>
    public required string Tenant { get; init; }
    /// <summary>Seconds from its first rate point to the end of the run.</summary>
    public required double ActiveSeconds { get; init; }
    /// <summary>Seconds with fewer replicas running than the scaler wanted.</summary>
    public required double UnderReplicatedSeconds { get; init; }
    /// <summary>Share of its active time with every wanted replica running (1 − under-replicated / active).</summary>
    public required double ShareMet { get; init; }
    /// <summary>
    /// Share of its active time when its running replicas could serve its whole rate at full load (the target
    /// utilization's headroom counted): the time it met its rate, which may be more than <see cref="ShareMet"/>.
    /// </summary>
    public required double RateMetShare { get; init; }
    /// <summary>Requests it received (∫ rate dt).</summary>
    public required double Requests { get; init; }
    /// <summary>Requests beyond what its running replicas could serve: ∫ max(0, rate − running × per replica) dt.</summary>
    public required double UnservedRequests { get; init; }
    /// <summary>Share of its requests served (1 − unserved / requests; 1 with none).</summary>
    public required double ServedShare { get; init; }
    /// <summary>Replicas running, time-weighted mean over its active time.</summary>
    public required double MeanReplicas { get; init; }
    /// <summary>The fewest replicas running once its first rollout was complete (every wanted replica running); 0 if it never was.</summary>
    public required int MinReplicas { get; init; }
    /// <summary>The most replicas running at once.</summary>
    public required int MaxReplicas { get; init; }
    /// <summary>Replicas wanted, time-weighted mean.</summary>
    public required double MeanDesiredReplicas { get; init; }
    /// <summary>Replicas that started after a scale-up (each counted once, at its first start).</summary>
    public required int ReplicasStarted { get; init; }
    /// <summary>
    /// Median time from the scale-up decision to the replica running; with standby replicas, from the rate
    /// wanting a replica more to that many running (0 where a standby replica took it at once).
    /// </summary>
    public required double ScaleUpP50Seconds { get; init; }
    /// <summary>99th percentile of the same.</summary>
    public required double ScaleUpP99Seconds { get; init; }
    /// <summary>Longest of the same.</summary>
    public required double ScaleUpMaxSeconds { get; init; }
    /// <summary>Replicas evicted (each queued again).</summary>
    public required int ReplicasEvicted { get; init; }
    /// <summary>Replicas the scheduler refused (the service stayed short of them until its rate next changed).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int ReplicasRejected { get; init; }
    /// <summary>Why the first refused replica was refused.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? RejectedExample { get; init; }
    /// <summary>Region of its users; null for a service without one (the edge and spill figures are then left out).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Region { get; init; }
    /// <summary>Requests served by replicas at sites of its region.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? ServedAtEdge { get; init; }
    /// <summary>Requests served by replicas that spilled to sites outside its region.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? ServedSpilled { get; init; }
    /// <summary>Its latency budget in ms (one way, region to site); null for none (the budget figures are then left out).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LatencyBudgetMs { get; init; }
    /// <summary>Requests served by replicas within the latency budget of its region.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? RequestsWithinBudget { get; init; }
    /// <summary>The rest of its requests: unserved (replicas go only to sites within the budget, so no served request is beyond it).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? RequestsOutsideBudget { get; init; }
    /// <summary>Standby replicas it holds beyond those its rate wants; null for none.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? StandbyReplicas { get; init; }
    /// <summary>Replica-hours its standby replicas ran serving nothing: what they cost.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? StandbyReplicaHours { get; init; }
    /// <summary>With standby replicas: replicas its rate wanted more (each a scale-up measured above).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? ScaleUps { get; init; }
    /// <summary>
    /// The most replicas its rate wanted more at one moment (a rise of the rate curve, its deployment not counted):
    /// the standby replicas that would have met every scale-up at once, where its scale-ups must wait for GPUs.
    /// </summary>
    public int LargestRiseReplicas { get; init; }
}
