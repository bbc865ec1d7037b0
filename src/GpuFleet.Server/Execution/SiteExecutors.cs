using GpuFleet.Core.Fleets;
using GpuFleet.Executors;
using GpuFleet.Executors.Kubernetes;
using GpuFleet.Executors.Local;
using GpuFleet.Executors.Slurm;

namespace GpuFleet.Server.Execution;

/// <summary>The executors a fleet file may name, started from a site's <see cref="SiteExecutorSpec"/>.</summary>
public static class SiteExecutors
{
    /// <summary>The executor of site <paramref name="site"/>, as its fleet file's <c>executor</c> section names it.</summary>
    public static ISiteExecutor Create(Fleet fleet, int site)
    {
        var spec = fleet.Sites[site].Executor;
        return spec.Kind switch
        {
            "slurm" when spec.Setting("restUrl") is { } url => new SlurmExecutor(
                new SlurmExecutorOptions(Partition: spec.Setting("partition"), OutputDirectory: spec.Setting("outputDirectory")),
                new SlurmRestOptions(new Uri(url), spec.Setting("user"), spec.Setting("token"), spec.Setting("tokenFile"))),
            "slurm" => new SlurmExecutor(new SlurmExecutorOptions(
                Partition: spec.Setting("partition"), SlurmConf: spec.Setting("slurmConf"), ToolDirectory: spec.Setting("toolDirectory"), OutputDirectory: spec.Setting("outputDirectory"))),
            "local" => new LocalExecutor(new LocalExecutorOptions(spec.Setting("logDirectory", SiteExecutorSpec.DefaultLocalLogDirectory)!)
            {
                VirtualGpus = int.Parse(spec.Setting("virtualGpus", "0")!, System.Globalization.CultureInfo.InvariantCulture),
                // The machine is the site's node: by default it answers to the name the fleet gives that node.
                NodeName = spec.Setting("nodeName") ?? SingleNodeName(fleet, site) ?? Environment.MachineName,
                NvidiaSmiPath = spec.Setting("nvidiaSmi", "nvidia-smi")!,
            }),
            "kubernetes" => new KubernetesExecutor(new KubernetesExecutorOptions(spec.Setting("namespace", "default")!, spec.Setting("image", "busybox:1.36")!, spec.Setting("kubeconfig"))),
            _ => throw new InvalidOperationException($"site '{fleet.Sites[site].Name}': no executor of kind '{spec.Kind}'"),
        };
    }

    private static string? SingleNodeName(Fleet fleet, int site)
    {
        var nodes = Enumerable.Range(0, fleet.NodeCount).Where(n => fleet.PoolSite(fleet.NodePool(n)) == site).Take(2).ToList();
        return nodes.Count == 1 ? fleet.NodeName(nodes[0]) : null;
    }
}
