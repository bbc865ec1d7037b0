using k8s.Models;

namespace GpuFleet.Executors.Kubernetes;

/// <summary>
/// A Kubernetes node in the inventory's words: its GPUs (<c>allocatable["nvidia.com/gpu"]</c>), CPU cores and memory
/// (allocatable <c>cpu</c> and <c>memory</c>: what is left for pods after the kubelet's reservations), its model (GPU
/// feature discovery's <c>nvidia.com/gpu.product</c> label), its NVLink domain (the <c>nvidia.com/gpu.clique</c>
/// label) and whether GpuFleet's pods may go there.
/// </summary>
/// <remarks>
/// Example, as real API servers answer: a node whose <c>Ready</c> condition is <c>Unknown</c> ("Kubelet stopped
/// posting node status") is down; a cordoned node (<c>spec.unschedulable: true</c>, and the
/// <c>node.kubernetes.io/unschedulable:NoSchedule</c> taint that comes with it) is drained; so is a control-plane
/// node with <c>node-role.kubernetes.io/master:NoSchedule</c>, which GpuFleet's pods do not tolerate. A GPU node
/// pool's <c>nvidia.com/gpu:NoSchedule</c> taint is tolerated (<see cref="KubernetesJobSpec"/> adds the toleration),
/// and <c>PreferNoSchedule</c> only steers the scheduler: such nodes stay up. Conditions other than <c>Ready</c>
/// (MemoryPressure, node-problem-detector's KernelDeadlock…) come with taints of their own when they matter.
/// </remarks>
internal static class KubernetesNodes
{
    public static InventoryNode Read(V1Node node, int gpusHeldByOthers) =>
        new(node.Metadata.Name, GpusOf(node), ModelOf(node.Metadata.Labels), StateOf(node), gpusHeldByOthers, CliqueOf(node.Metadata.Labels),
            (int)Math.Min(int.MaxValue, Allocatable(node, "cpu")), (int)Math.Min(int.MaxValue, Allocatable(node, "memory") / (1L << 30)));

    // An allocatable quantity rounded down to a whole number ("31850m" cores: 31; "263882752Ki" bytes); 0 when absent.
    private static long Allocatable(V1Node node, string resource) =>
        node.Status?.Allocatable is { } a && a.TryGetValue(resource, out var q) ? (long)Math.Max(0, Math.Floor(q.ToDecimal())) : 0;

    /// <summary>The GPUs the device plugin advertises as allocatable; 0 on a node without it.</summary>
    public static int GpusOf(V1Node node) =>
        node.Status?.Allocatable is { } a && a.TryGetValue(KubernetesLabels.Gpu, out var q) ? (int)q.ToInt64() : 0;

    public static string? ModelOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(KubernetesLabels.Product, out var product) && product.Length > 0 ? product : null;

    /// <summary>
    /// The NVLink domain GPU feature discovery puts the node in: its <c>nvidia.com/gpu.clique</c> label,
    /// <c>&lt;cluster UUID&gt;.&lt;clique id&gt;</c> of the node's fabric-attached GPUs (set only where the GPUs' fabric is
    /// up and all of them agree, as on GB200 NVL72 racks); null without it.
    /// </summary>
    public static string? CliqueOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(KubernetesLabels.Clique, out var clique) && clique.Length > 0 ? clique : null;

    public static InventoryNodeState StateOf(V1Node node)
    {
        // Only True is ready: False is a kubelet that says so, Unknown one that stopped answering, none one not yet registered.
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status == "True";
        if (!ready) return InventoryNodeState.Down;
        if (node.Spec?.Unschedulable == true) return InventoryNodeState.Drained;
        return node.Spec?.Taints?.Any(t => !Tolerated(t)) == true ? InventoryNodeState.Drained : InventoryNodeState.Up;
    }

    /// <summary>Whether GpuFleet's pods may still be placed on a node with this taint.</summary>
    public static bool Tolerated(V1Taint taint) =>
        taint.Effect is not ("NoSchedule" or "NoExecute")
        || (taint.Key == KubernetesLabels.Gpu && taint.Effect == "NoSchedule");
}
