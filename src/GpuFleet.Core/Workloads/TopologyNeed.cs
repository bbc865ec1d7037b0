namespace GpuFleet.Core.Workloads;

/// <summary>
/// The widest span a job accepts. Whatever the need, a job that fits in one node is placed on one
/// node, and one that fits in one NVLink domain is placed in one domain; the need only bounds how far
/// a larger job may spread.
/// </summary>
public enum TopologyNeed
{
    /// <summary>One site (the default: a gang never spans sites unless it says so).</summary>
    Site = 0,
    /// <summary>Must run inside one node.</summary>
    Node = 1,
    /// <summary>Must run inside one NVLink domain.</summary>
    Domain = 2,
    /// <summary>May span sites (for jobs that tolerate wide-area links).</summary>
    Anywhere = 3,
}
