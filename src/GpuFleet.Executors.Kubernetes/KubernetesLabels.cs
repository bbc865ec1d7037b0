namespace GpuFleet.Executors.Kubernetes;

/// <summary>The labels and resource names GpuFleet reads and writes on a cluster.</summary>
internal static class KubernetesLabels
{
    /// <summary>On GpuFleet's Jobs and pods: the GpuFleet job id (found again by it after a crash).</summary>
    public const string JobId = "gpufleet.io/job-id";
    /// <summary>On GpuFleet's Jobs and pods: the tenant.</summary>
    public const string Tenant = "gpufleet.io/tenant";
    /// <summary>The GPU resource NVIDIA's device plugin advertises.</summary>
    public const string Gpu = "nvidia.com/gpu";
    /// <summary>GPU feature discovery's model label.</summary>
    public const string Product = "nvidia.com/gpu.product";
    /// <summary>GPU feature discovery's NVLink clique label (GB200/GB300 NVL72 racks).</summary>
    public const string Clique = "nvidia.com/gpu.clique";
    /// <summary>Every node's own name label, which binds a pod to the nodes GpuFleet chose.</summary>
    public const string Hostname = "kubernetes.io/hostname";
}
