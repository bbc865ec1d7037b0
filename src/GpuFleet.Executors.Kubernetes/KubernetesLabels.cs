namespace GpuFleet.Executors.Kubernetes;

/// <summary>The labels and resource names GpuFleet reads and writes on a cluster.</summary>
internal static class KubernetesLabels
{
    /// <summary>On GpuFleet's Jobs and pods: the GpuFleet job id (found again by it after a crash).</summary>
    public const string JobId = "gpufleet.io/job-id";
    /// <summary>On the Jobs and pods of a named GpuFleet installation: its name (the unnamed installation's carry none).</summary>
    public const string Installation = "gpufleet.io/installation";
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

    /// <summary>
    /// The label selector of one installation's Jobs and pods: <c>gpufleet.io/job-id,gpufleet.io/installation=prod</c>, or for
    /// the unnamed installation <c>gpufleet.io/job-id,!gpufleet.io/installation</c> (its runs carry no installation label).
    /// </summary>
    public static string Selector(string? installation) =>
        installation is null ? $"{JobId},!{Installation}" : $"{JobId},{Installation}={installation}";
}
