namespace GpuFleet.Core.Fleets;

/// <summary>One node as a site's cluster lists it, for a site that takes its nodes from the cluster.</summary>
/// <param name="Name">The cluster's name for it (<c>n01</c>, <c>gpu-node-0007</c>).</param>
/// <param name="Gpus">GPUs it has.</param>
/// <param name="Model">The cluster's name for their model (a GRES type, a product label); null when it does not say.</param>
/// <param name="NvlinkDomain">
/// The NVLink domain it belongs to as the cluster names it (GPU feature discovery's <c>nvidia.com/gpu.clique</c>,
/// <c>&lt;cluster UUID&gt;.&lt;clique id&gt;</c>, on GB200 NVL72 nodes); null when it does not say: a domain of its own.
/// </param>
/// <param name="Cpus">CPU cores jobs may use there; 0 when the cluster does not say (not counted).</param>
/// <param name="MemoryGb">Memory jobs may use there, in GB; 0 when the cluster does not say (not counted).</param>
public sealed record ClusterNode(string Name, int Gpus, string? Model, string? NvlinkDomain = null, int Cpus = 0, int MemoryGb = 0);
