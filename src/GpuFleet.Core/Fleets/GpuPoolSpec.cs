namespace GpuFleet.Core.Fleets;

/// <summary>
/// A block of identical NVLink domains at one site: <see cref="Domains"/> domains, each of
/// <see cref="NodesPerDomain"/> nodes with <see cref="GpusPerNode"/> GPUs of <see cref="Model"/>.
/// An HGX 8-GPU server is a domain of one node; a GB200 NVL72 rack is a domain of 18 nodes × 4 GPUs.
/// </summary>
/// <param name="Site">Name of the site that holds the pool.</param>
/// <param name="Model">GPU model name.</param>
/// <param name="GpusPerNode">GPUs in one node (1–64).</param>
/// <param name="NodesPerDomain">Nodes sharing one NVLink domain.</param>
/// <param name="Domains">Number of domains.</param>
/// <param name="NodeOverheadWatts">Power of one node besides its GPUs (CPUs, NICs, fans, NVLink switches).</param>
public sealed record GpuPoolSpec(string Site, string Model, int GpusPerNode, int NodesPerDomain, int Domains, double NodeOverheadWatts)
{
    /// <summary>
    /// How its nodes are named (see <see cref="NodeNamePattern.Parse"/>), e.g. <c>sejong-gb200-{0001}</c>;
    /// null: <see cref="NodeNamePattern.Default"/>, numbered on from the nodes of earlier specifications
    /// of the same site and model that are named by default too.
    /// </summary>
    public string? NodeNames { get; init; }

    /// <summary>
    /// The NVLink domain its nodes belong to, as the cluster names it (a GB200 NVL72 rack's
    /// <c>nvidia.com/gpu.clique</c>); null: its domains are its own. Specifications listed one after another
    /// with the same value, site and model are one domain, so that the nodes of one rack need not be numbered
    /// in one run: n01–n06 and n08–n18 of one clique are two specifications and one domain of 17 nodes. Such a
    /// specification has one domain (<see cref="Domains"/> = 1) of all its nodes.
    /// </summary>
    public string? NvlinkDomain { get; init; }

    /// <summary>CPU cores of one node that jobs may use; 0: not counted (a job's CPU request never binds).</summary>
    public int CpusPerNode { get; init; }

    /// <summary>Memory of one node that jobs may use, in GB; 0: not counted.</summary>
    public int MemoryGbPerNode { get; init; }

    /// <summary>GPUs in the whole pool.</summary>
    public long Gpus => (long)GpusPerNode * NodesPerDomain * Domains;
}
