namespace GpuFleet.Server.Execution;

/// <summary>How a site's executor stands: whether its cluster answers, and when it last did.</summary>
/// <param name="Site">The site.</param>
/// <param name="Kind">Its executor's kind.</param>
/// <param name="Reachable">Whether the last call to the cluster got an answer.</param>
/// <param name="LastContact">When the cluster last answered; null when it never has.</param>
/// <param name="LastError">Why the last call failed, while it is unreachable.</param>
/// <param name="Running">GpuFleet's runs the executor tracks there.</param>
/// <param name="Mismatches">Runs the cluster started elsewhere than placed, so far.</param>
/// <param name="Unscheduled">Nodes the cluster lists that GpuFleet does not schedule (at a site that takes its nodes from its cluster); null or empty: none.</param>
/// <param name="HeldByOthersGpus">GPUs of nodes in service that the cluster's own users (work GpuFleet did not start) hold, as of its last inventory.</param>
/// <param name="Waiting">Runs launched there that the cluster has not started, as of its last look; null when none, or while it does not answer.</param>
/// <param name="SetAside">Nodes set aside for a while because the cluster did not start a run there in time (<see cref="SiteAgent.SetAside"/>), and until when, in node order.</param>
public sealed record SiteHealth(string Site, string Kind, bool Reachable, DateTimeOffset? LastContact, string? LastError, int Running, int Mismatches,
    IReadOnlyList<UnscheduledNode>? Unscheduled = null, int HeldByOthersGpus = 0, ClusterWait? Waiting = null, IReadOnlyDictionary<string, DateTimeOffset>? SetAside = null);
