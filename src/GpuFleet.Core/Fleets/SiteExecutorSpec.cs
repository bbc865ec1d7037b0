namespace GpuFleet.Core.Fleets;

/// <summary>
/// What carries a site's placements out: the cluster manager the site already runs, as the fleet file
/// names it. The scheduling core never reads it (the twin runs every site on its simulated executor);
/// the live service starts one executor per site from it.
/// </summary>
/// <param name="Kind"><c>simulated</c> (the default), <c>slurm</c>, <c>kubernetes</c> or <c>local</c>.</param>
/// <param name="Settings">The kind's own settings (a Slurm partition, a log directory), as written.</param>
public sealed record SiteExecutorSpec(string Kind, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>The kinds a fleet file may name.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["simulated", "slurm", "kubernetes", "local"];

    /// <summary>The settings each kind takes, besides the ones every kind takes (<see cref="CommonSettings"/>).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> KindSettings { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["simulated"] = [],
        // restUrl (with user and token or tokenFile) reaches Slurm through slurmrestd instead of its tools.
        ["slurm"] = ["partition", "slurmConf", "toolDirectory", "outputDirectory", "restUrl", "user", "token", "tokenFile", "shardsPerGpu"],
        ["kubernetes"] = ["kubeconfig", "namespace", "image"],
        ["local"] = ["logDirectory", "virtualGpus", "nodeName", "nvidiaSmi"],
    };

    /// <summary>
    /// Settings every real executor takes: seconds between looks at the cluster, between inventories, from a
    /// checkpoint signal to the eviction, and from a launch to giving up on a run the cluster has not started.
    /// </summary>
    public static IReadOnlyList<string> CommonSettings { get; } = ["pollSeconds", "inventorySeconds", "checkpointGraceSeconds", "launchTimeoutSeconds", "launchWarningSeconds", "setAsideSeconds"];

    /// <summary>
    /// Settings every real executor takes about the site's nodes: <c>inventory</c> (<c>file</c>, the default:
    /// the fleet file's pools; <c>cluster</c>: the nodes the cluster lists when the server starts), and for
    /// <c>cluster</c>, <c>model</c> (the fleet model of nodes whose cluster does not name one the fleet
    /// knows), <c>nodeOverheadWatts</c> and <c>spareNodes</c> (nodes per group of names the fleet holds out of
    /// service for the cluster to list later, see <see cref="ClusterPools"/>).
    /// </summary>
    public static IReadOnlyList<string> InventorySettings { get; } = ["inventory", "model", "nodeOverheadWatts", "spareNodes"];

    /// <summary>Whether the site's nodes come from its cluster rather than the fleet file.</summary>
    public bool TakesNodesFromCluster => Setting("inventory") == "cluster";

    /// <summary>Where a local site's jobs write their output when its executor names no <c>logDirectory</c> (relative to the server's working directory).</summary>
    public const string DefaultLocalLogDirectory = "gpufleet-logs";

    /// <summary>The simulated executor: what a site without an <c>executor</c> section gets.</summary>
    public static SiteExecutorSpec Simulated { get; } = new("simulated", new Dictionary<string, string>());

    /// <summary>Whether placements at the site are carried out by the simulated executor.</summary>
    public bool IsSimulated => Kind == "simulated";

    /// <summary>A setting as written, or <paramref name="fallback"/>.</summary>
    public string? Setting(string key, string? fallback = null) => Settings.TryGetValue(key, out var v) ? v : fallback;

    /// <summary>A whole-number setting, or <paramref name="fallback"/>.</summary>
    public int Seconds(string key, int fallback) => Settings.TryGetValue(key, out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
