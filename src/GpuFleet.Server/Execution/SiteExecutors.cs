using GpuFleet.Core.Fleets;
using GpuFleet.Executors;
using GpuFleet.Executors.Kubernetes;
using GpuFleet.Executors.Local;
using GpuFleet.Executors.Slurm;

namespace GpuFleet.Server.Execution;

/// <summary>The executors a fleet file may name, started from a site's <see cref="SiteExecutorSpec"/>.</summary>
public static class SiteExecutors
{
    /// <summary>The executor of site <paramref name="site"/>, as its fleet file's <c>executor</c> section names it, for the fleet's installation.</summary>
    public static ISiteExecutor Create(Fleet fleet, int site) => Create(fleet, site, fleet.Installation);

    /// <summary>The executor of site <paramref name="site"/>, whose runs are installation <paramref name="installation"/>'s (null: the unnamed one).</summary>
    public static ISiteExecutor Create(Fleet fleet, int site, string? installation) => Create(fleet.Sites[site], SingleNodeName(fleet, site), installation);

    /// <summary>
    /// The nodes <paramref name="site"/>'s cluster lists now, for a site that takes its nodes from its
    /// cluster (<c>inventory: cluster</c>): one inventory through a short-lived executor, when the server starts.
    /// </summary>
    /// <exception cref="ExecutorUnreachableException">The cluster did not answer.</exception>
    public static IReadOnlyList<ClusterNode> NodesOf(Site site)
    {
        return Take().GetAwaiter().GetResult();

        async Task<IReadOnlyList<ClusterNode>> Take()
        {
            await using var executor = Create(site, singleNodeName: null, installation: null);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var inventory = await executor.InventoryAsync(timeout.Token);
            return [.. inventory.Nodes.Select(n => new ClusterNode(n.Name, n.Gpus, n.Model, n.NvlinkDomain, n.Cpus, n.MemoryGb))];
        }
    }

    // The fleet file checked it is a whole number from 1.
    private static int ShardsPerGpu(SiteExecutorSpec spec) =>
        int.Parse(spec.Setting("shardsPerGpu", SlurmExecutorOptions.DefaultShardsPerGpu.ToString(System.Globalization.CultureInfo.InvariantCulture))!, System.Globalization.CultureInfo.InvariantCulture);

    private static ISiteExecutor Create(Site siteOf, string? singleNodeName, string? installation)
    {
        var spec = siteOf.Executor;
        return spec.Kind switch
        {
            "slurm" when spec.Setting("restUrl") is { } url => new SlurmExecutor(
                new SlurmExecutorOptions(Partition: spec.Setting("partition"), OutputDirectory: spec.Setting("outputDirectory"), Installation: installation) { ShardsPerGpu = ShardsPerGpu(spec) },
                new SlurmRestOptions(new Uri(url), spec.Setting("user"), spec.Setting("token"), spec.Setting("tokenFile"))),
            "slurm" => new SlurmExecutor(new SlurmExecutorOptions(
                Partition: spec.Setting("partition"), SlurmConf: spec.Setting("slurmConf"), ToolDirectory: spec.Setting("toolDirectory"), OutputDirectory: spec.Setting("outputDirectory"),
                Installation: installation) { ShardsPerGpu = ShardsPerGpu(spec) }),
            "local" => new LocalExecutor(new LocalExecutorOptions(spec.Setting("logDirectory", SiteExecutorSpec.DefaultLocalLogDirectory)!)
            {
                VirtualGpus = int.Parse(spec.Setting("virtualGpus", "0")!, System.Globalization.CultureInfo.InvariantCulture),
                // The machine is the site's node: by default it answers to the name the fleet gives that node.
                NodeName = spec.Setting("nodeName") ?? singleNodeName ?? Environment.MachineName,
                NvidiaSmiPath = spec.Setting("nvidiaSmi", "nvidia-smi")!,
                Installation = installation,
            }),
            "kubernetes" => new KubernetesExecutor(new KubernetesExecutorOptions(spec.Setting("namespace", "default")!, spec.Setting("image", "busybox:1.36")!, spec.Setting("kubeconfig"), Installation: installation)),
            _ => throw new InvalidOperationException($"site '{siteOf.Name}': no executor of kind '{spec.Kind}'"),
        };
    }

    private static string? SingleNodeName(Fleet fleet, int site)
    {
        var nodes = Enumerable.Range(0, fleet.NodeCount).Where(n => fleet.PoolSite(fleet.NodePool(n)) == site).Take(2).ToList();
        return nodes.Count == 1 ? fleet.NodeName(nodes[0]) : null;
    }
}
