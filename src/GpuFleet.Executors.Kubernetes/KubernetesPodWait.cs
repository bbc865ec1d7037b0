using k8s.Models;

namespace GpuFleet.Executors.Kubernetes;

/// <summary>
/// Why a GpuFleet Job's pods have not all started, in Kubernetes' words, for an operator who sees a placed
/// job wait in the cluster; and whether that is the job's own doing (its image) rather than its nodes'.
/// <para>Example: a pod with condition <c>PodScheduled=False</c>, reason <c>Unschedulable</c>, message
/// "0/2 nodes are available: 2 Insufficient nvidia.com/gpu." reads <c>Unschedulable: 0/2 nodes are available: 2
/// Insufficient nvidia.com/gpu.</c> (the nodes'); a scheduled pod whose container waits with <c>ImagePullBackOff</c>
/// reads <c>ImagePullBackOff</c> (its own); fewer pods than the Job wants read <c>not every pod created yet</c>.</para>
/// </summary>
internal static class KubernetesPodWait
{
    // The scheduler's messages can be long (one clause per reason nodes were filtered): the view keeps their start.
    private const int MaxMessage = 200;

    // Container waits of the job's own making: its image, or its container's configuration.
    private static readonly HashSet<string> OwnWaits = new(StringComparer.Ordinal)
        { "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError" };

    /// <summary>The first not-running pod's reason, of <paramref name="wanted"/> pods; null when all of them run (or ran).</summary>
    public static (string Reason, bool OnItself)? Of(IReadOnlyList<V1Pod> pods, int wanted)
    {
        foreach (var pod in pods)
        {
            if (pod.Status?.Phase is "Running" or "Succeeded" or "Failed") continue;
            var unscheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False");
            if (unscheduled is not null) return (Said(unscheduled.Reason ?? "not scheduled", unscheduled.Message), false);
            // The reason alone: a container's message names its image and registry, and every token that reads the
            // site's view sees it (the log, for operators, has the pod's name to look it up).
            var waiting = pod.Status?.ContainerStatuses?.Select(s => s.State?.Waiting).FirstOrDefault(w => w is not null);
            if (waiting is not null) return (waiting.Reason ?? "waiting", waiting.Reason is { } r && OwnWaits.Contains(r));
            return (pod.Status?.Phase ?? "Pending", false);
        }
        return pods.Count < wanted ? (pods.Count == 0 ? "no pod created yet" : "not every pod created yet", false) : null;
    }

    private static string Said(string reason, string? message) =>
        message is not { Length: > 0 } m ? reason : m.Length <= MaxMessage ? $"{reason}: {m}" : $"{reason}: {m[..MaxMessage]}…";
}
