namespace GpuFleet.Core.Tenancy;

/// <summary>
/// The tenant tree, priority classes and billing weights a scheduler enforces. Validated on
/// construction: names unique, parents declared before children, depth at most
/// <see cref="MaxDepth"/>, no negative figures.
/// </summary>
public sealed class TenantTree
{
    /// <summary>Owner → programme → organisation → project: deep enough for a national fleet, shallow enough to order fast.</summary>
    public const int MaxDepth = 4;

    /// <summary>Builds a tree.</summary>
    /// <exception cref="ArgumentException">The tree does not hold together; the message names the node and field.</exception>
    public TenantTree(IReadOnlyList<TenantSpec> tenants, IReadOnlyList<PriorityClass>? classes = null,
        IReadOnlyDictionary<string, double>? billingWeights = null, string defaultClass = "normal")
    {
        Tenants = tenants;
        Classes = classes is { Count: > 0 } ? classes : PriorityClass.Defaults;
        BillingWeights = billingWeights ?? new Dictionary<string, double>();
        DefaultClass = defaultClass;
        var depth = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in tenants)
        {
            if (string.IsNullOrWhiteSpace(t.Name)) throw new ArgumentException("tenants: a tenant needs a name");
            if (depth.ContainsKey(t.Name)) throw new ArgumentException($"tenants.{t.Name}: the name is used twice");
            var d = 0;
            if (t.Parent is not null && !depth.TryGetValue(t.Parent, out d))
                throw new ArgumentException($"tenants.{t.Name}.parent: unknown tenant '{t.Parent}' (a parent is declared before its children)");
            if (t.Parent is not null) d++;
            if (d >= MaxDepth) throw new ArgumentException($"tenants.{t.Name}: the tree is at most {MaxDepth} levels deep");
            depth[t.Name] = d;
            foreach (var (model, gpus) in t.Guarantee)
                if (gpus < 0) throw new ArgumentException($"tenants.{t.Name}.guarantee.{model}: must not be negative");
            if (t.Weight is <= 0) throw new ArgumentException($"tenants.{t.Name}.weight: must be positive");
            if (t.BorrowLimitGpus is < 0) throw new ArgumentException($"tenants.{t.Name}.borrowLimitGpus: must not be negative");
            if (t.LendLimitGpus is < 0) throw new ArgumentException($"tenants.{t.Name}.lendLimitGpus: must not be negative");
            foreach (var g in t.Grants ?? [])
            {
                if (g.GpuHours < 0) throw new ArgumentException($"tenants.{t.Name}.grants.{g.Name}.gpuHours: must not be negative");
                if (g.EndTime <= g.StartTime) throw new ArgumentException($"tenants.{t.Name}.grants.{g.Name}.end: must be after its start");
            }
        }
        foreach (var t in tenants)
            if (t.Grants is { Count: > 0 } && tenants.Any(c => c.Parent == t.Name))
                throw new ArgumentException($"tenants.{t.Name}.grants: grants belong to projects (leaves), and this tenant has children");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in Classes)
            if (!names.Add(c.Name)) throw new ArgumentException($"priorityClasses.{c.Name}: the name is used twice");
        if (!names.Contains(defaultClass)) throw new ArgumentException($"defaultClass: unknown priority class '{defaultClass}'");
        foreach (var (model, w) in BillingWeights)
            if (w <= 0) throw new ArgumentException($"billingWeights.{model}: must be positive");
        var parents = tenants.Where(t => t.Parent is not null).Select(t => t.Parent!).ToHashSet(StringComparer.Ordinal);
        Leaves = [.. tenants.Where(t => !parents.Contains(t.Name))];
        // Parents come before children, so each node's owner is known when the node is reached.
        foreach (var t in tenants) _owner[t.Name] = t.Parent is null ? t.Name : _owner[t.Parent];
    }

    private readonly Dictionary<string, string> _owner = new(StringComparer.Ordinal);

    /// <summary>The nodes, parents before children.</summary>
    public IReadOnlyList<TenantSpec> Tenants { get; }
    /// <summary>Priority classes jobs may name.</summary>
    public IReadOnlyList<PriorityClass> Classes { get; }
    /// <summary>Model → GPU-hour price in the grants' currency (1 where absent).</summary>
    public IReadOnlyDictionary<string, double> BillingWeights { get; }
    /// <summary>The class of a job that names none.</summary>
    public string DefaultClass { get; }

    /// <summary>Leaves: the tenants jobs are submitted to.</summary>
    public IReadOnlyList<TenantSpec> Leaves { get; }

    /// <summary>The owner (top node) above <paramref name="tenant"/>; a name outside the tree is its own owner.</summary>
    public string OwnerOf(string tenant) => _owner.GetValueOrDefault(tenant, tenant);

    /// <summary>A tree without guarantees, in which every tenant is an owner of its own (what the foundation policies assume).</summary>
    public static TenantTree Empty { get; } = new([]);
}
