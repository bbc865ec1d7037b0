namespace GpuFleet.Server.Execution;

/// <summary>
/// A node a site's cluster lists that GpuFleet does not schedule, or not all of: at a site that takes its nodes from
/// its cluster (<c>inventory: cluster</c>), a node added after the server started that no spare node of the fleet
/// holds, one listed with another model or NVLink clique than the fleet holds it with, or with more GPUs.
/// </summary>
/// <param name="Node">The cluster's name for it.</param>
/// <param name="Gpus">GPUs the cluster lists on it.</param>
/// <param name="Model">Their model as the cluster names it; null when it does not say.</param>
/// <param name="UnscheduledGpus">How many of them take no GpuFleet work.</param>
/// <param name="Reason">Why, and what would change it (a restart of <c>gpufleet serve</c>, a spare node).</param>
public sealed record UnscheduledNode(string Node, int Gpus, string? Model, int UnscheduledGpus, string Reason);
