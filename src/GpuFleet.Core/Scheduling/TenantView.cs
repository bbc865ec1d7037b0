using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Read-only view of a scheduler's tenant tree: the nodes (owners, their tenants, and tenants that
/// appeared without a tree), their guarantees, what their running jobs hold, grant use and fair-share use.
/// </summary>
public sealed class TenantView
{
    private readonly TenantLedger _ledger;

    internal TenantView(TenantLedger ledger) => _ledger = ledger;

    /// <summary>Nodes of the tenant tree.</summary>
    public int Count => _ledger.NodeCount;
    /// <summary>Name of tenant node <paramref name="node"/>.</summary>
    public string Name(int node) => _ledger.Name(node);
    /// <summary>The owner (top node) of tenant node <paramref name="node"/>.</summary>
    public int Owner(int node) => _ledger.Owner(node);
    /// <summary>Whether jobs are submitted to this node.</summary>
    public bool IsLeaf(int node) => _ledger.IsLeaf(node);
    /// <summary>The nodes from the owner down to <paramref name="node"/>, itself included.</summary>
    public ReadOnlySpan<int> Path(int node) => _ledger.Path(node);
    /// <summary>GPUs of a model guaranteed to a tenant node.</summary>
    public int Guarantee(int node, int model) => _ledger.Guarantee(node, model);
    /// <summary>GPUs of a model a tenant node's running jobs hold.</summary>
    public int Use(int node, int model) => _ledger.Use(node, model);
    /// <summary>GPU-hours a project ran beyond its grants (jobs admitted while hours were left run to their end).</summary>
    public double GrantOverrunGpuHours(int node) => _ledger.OverrunGpuHours(node);
    /// <summary>GPU-hours charged to each grant of a project.</summary>
    public IEnumerable<(Grant Grant, double UsedGpuHours)> GrantUse(int node) => _ledger.GrantUse(node);

    /// <summary>
    /// Decayed fair-share use of a tenant in GPU-seconds, as of the last cycle or job end. Tracked only
    /// under a fair-share order: the other policies never read it, and decaying every tenant at every
    /// job end would cost them O(tenants) for nothing.
    /// </summary>
    public double Usage(string tenant) => _ledger.NodeOf(tenant) is var n and >= 0 ? _ledger.Usage(n) : 0;

    /// <summary>Decayed fair-share use of tenant node <paramref name="node"/> in GPU-seconds (see <see cref="Usage(string)"/>).</summary>
    public double Usage(int node) => _ledger.Usage(node);

    /// <summary>A node's fair-share weight: its configured weight, or its total guarantee. Siblings are served in order of use over weight.</summary>
    public double Weight(int node) => _ledger.Weight(node);
}
