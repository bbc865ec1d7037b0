namespace GpuFleet.Executors.Kubernetes;

/// <summary>Where and how a Kubernetes site runs GpuFleet's jobs.</summary>
/// <param name="Namespace">The namespace GpuFleet's Jobs go to.</param>
/// <param name="Image">The container image a job's command runs in.</param>
/// <param name="KubeconfigPath">A kubeconfig file; null: <c>KUBECONFIG</c> or <c>~/.kube/config</c>, or the in-cluster service account.</param>
/// <param name="Host">An API server URL to use instead of a kubeconfig (tests).</param>
/// <param name="Installation">The GpuFleet installation whose Jobs these are (<see cref="RunNames"/>): named <c>gpufleet-&lt;installation&gt;-&lt;id&gt;</c> and labelled <c>gpufleet.io/installation</c>; null: <c>gpufleet-&lt;id&gt;</c>, without that label.</param>
public sealed record KubernetesExecutorOptions(string Namespace = "default", string Image = "busybox:1.36", string? KubeconfigPath = null, string? Host = null, string? Installation = null);
