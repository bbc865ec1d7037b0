using k8s.Models;

namespace GpuFleet.Executors.Kubernetes;

/// <summary>
/// Why a GpuFleet Job's pods have not all started, in Kubernetes' words, for an operator who sees a placed
/// job wait in the cluster.
/// <para>Example: a pod with condition <c>PodScheduled=False</c>, reason <c>Unschedulable</c>, message
/// "0/2 nodes are available: 2 Insufficient nvidia.com/gpu." reads <c>Unschedulable: 0/2 nodes are available: 2
/// Insufficient nvidia.com/gpu.</c>; a scheduled pod whose container waits with <c>ImagePullBackOff</c> reads
/// <c>ImagePullBackOff</c>; no pod yet reads <c>no pod created yet</c>.</para>
/// </summary>
internal static class KubernetesPodWait
{
    /// <summary>The first not-running pod's reason; null when every pod runs (or ran).</summary>
    public static string? Of(IReadOnlyList<V1Pod> pods)
    {
        if (pods.Count == 0) return "no pod created yet";
        foreach (var pod in pods)
        {
            if (pod.Status?.Phase is "Running" or "Succeeded" or "Failed") continue;
            var unscheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False");
            if (unscheduled is not null) return Said(unscheduled.Reason ?? "not scheduled", unscheduled.Message);
            // The reason alone: a container's message names its image and registry, and every token that reads the
            // site's view sees it (the log, for operators, has the pod's name to look it up).
            var waiting = pod.Status?.ContainerStatuses?.Select(s => s.State?.Waiting).FirstOrDefault(w => w is not null);
            if (waiting is not null) return waiting.Reason ?? "waiting";
            return pod.Status?.Phase ?? "Pending";
        }
        return null;
    }

    private static string Said(string reason, string? message) => message is { Length: > 0 } m ? $"{reason}: {m}" : reason;
}
