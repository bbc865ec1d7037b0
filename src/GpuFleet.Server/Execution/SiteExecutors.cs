using GpuFleet.Core.Fleets;
using GpuFleet.Executors;
using GpuFleet.Executors.Kubernetes;

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
            "kubernetes" => new KubernetesExecutor(new KubernetesExecutorOptions(spec.Setting("namespace", "default")!, spec.Setting("image", "busybox:1.36")!, spec.Setting("kubeconfig"))),
            _ => throw new InvalidOperationException($"site '{fleet.Sites[site].Name}': no executor of kind '{spec.Kind}'"),
        };
    }
}
