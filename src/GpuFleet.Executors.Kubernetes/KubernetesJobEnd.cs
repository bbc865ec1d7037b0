using k8s.Models;

namespace GpuFleet.Executors.Kubernetes;

/// <summary>
/// How one of GpuFleet's Jobs ended, read from its conditions and its pods (those still there and those deleted
/// since); null while it runs.
/// </summary>
/// <remarks>
/// What the Job controller does (Kubernetes 1.31 and later; earlier ones write <c>Failed</c> at once and no
/// <c>FailureTarget</c>), and what is read from it:
/// <list type="bullet">
/// <item>all pods succeed → <c>SuccessCriteriaMet</c>, then <c>Complete</c> → Finished, exit code 0.</item>
/// <item>the deadline passes → <c>FailureTarget</c> (DeadlineExceeded), the running pods are deleted, then
/// <c>Failed</c> (DeadlineExceeded) → TimedOut, from the first of the two.</item>
/// <item>a container exits 3 → its pod turns Failed; with <c>backoffLimit: 0</c> → <c>FailureTarget</c>
/// (BackoffLimitExceeded), the rest of the gang is deleted → Finished, exit code 3 (OutOfMemory when the
/// container's reason is <c>OOMKilled</c>).</item>
/// <item>someone deletes pod 1 while it runs → it gets a <c>deletionTimestamp</c>; the controller counts a
/// terminating pod as failed → <c>FailureTarget</c> (BackoffLimitExceeded) and deletes the rest. No container
/// ended before its pod's deletion was asked for → Lost ("pod … was deleted outside GpuFleet"), or NodeFailure
/// when the pod's <c>DisruptionTarget</c> condition says a node took it (taint eviction, pod GC of a gone node,
/// the kubelet's own termination). This is read even before the Job's condition comes.</item>
/// </list>
/// A container "ended on its own" when it terminated before its pod's deletion was asked for (the deletion's
/// <c>deletionTimestamp</c> less its grace period), or its pod was never deleted: that tells the failure that
/// brought the Job down from the deletions that followed it.
/// </remarks>
internal static class KubernetesJobEnd
{
    // DisruptionTarget reasons that mean a node's failure took the pod (KEP-3329), not a person or the scheduler.
    private static readonly HashSet<string> NodeReasons = ["DeletionByTaintManager", "DeletionByPodGC", "TerminationByKubelet"];

    public static ExecutorEvent? Of(long id, V1Job job, IReadOnlyCollection<V1Pod> pods, IReadOnlyCollection<V1Pod> deleted, bool cancelled, DateTimeOffset now)
    {
        var conditions = job.Status?.Conditions ?? [];
        if (True(conditions, "Complete") is not null || True(conditions, "SuccessCriteriaMet") is not null)
            return new ExecutorEvent(id, ExecutorEventKind.Finished, now, 0);
        var failed = True(conditions, "Failed") ?? True(conditions, "FailureTarget");
        if (failed?.Reason == "DeadlineExceeded")
            return new ExecutorEvent(id, ExecutorEventKind.TimedOut, now, Detail: $"Kubernetes stopped it at activeDeadlineSeconds: {failed.Message}".TrimEnd(' ', ':'));
        var all = pods.Concat(deleted).ToList();
        if (all.Select(OwnEnd).OfType<V1ContainerStateTerminated>().OrderBy(t => t.FinishedAt ?? DateTime.MaxValue).FirstOrDefault() is { } own)
        {
            // A container failed by itself: that is the end, once the Job controller agrees (with backoffLimit 0, at once).
            if (failed is null) return null;
            return own.Reason == "OOMKilled"
                ? new ExecutorEvent(id, ExecutorEventKind.OutOfMemory, now, own.ExitCode, "OOMKilled")
                : new ExecutorEvent(id, ExecutorEventKind.Finished, now, own.ExitCode);
        }
        if (!cancelled && DeletedOutside(job, pods, deleted) is { } gone)
        {
            var disruption = gone.Status?.Conditions?.FirstOrDefault(c => c.Type == "DisruptionTarget" && c.Status == "True");
            var detail = $"pod {gone.Metadata.Name} was deleted outside GpuFleet" + (disruption is null ? "" : $" ({disruption.Reason}: {disruption.Message})");
            return new ExecutorEvent(id, disruption?.Reason is { } r && NodeReasons.Contains(r) ? ExecutorEventKind.NodeFailure : ExecutorEventKind.Lost, now, Detail: detail);
        }
        if (failed is null) return null;
        // GpuFleet deleted the Job and the controller counted its terminating pods as failures: a cancel, not a failure.
        return cancelled
            ? new ExecutorEvent(id, ExecutorEventKind.Cancelled, now)
            : new ExecutorEvent(id, ExecutorEventKind.Failed, now, Detail: $"Kubernetes failed the Job: {failed.Reason} {failed.Message}".Trim());
    }

    // The pod deleted first, of those deleted while they could still run: not after they succeeded, and not by
    // the Job controller at the deadline. Null when there is none.
    private static V1Pod? DeletedOutside(V1Job job, IReadOnlyCollection<V1Pod> pods, IReadOnlyCollection<V1Pod> deleted)
    {
        var deadline = job.Status?.StartTime is { } start && job.Spec?.ActiveDeadlineSeconds is { } seconds ? start.AddSeconds(seconds - 1) : (DateTime?)null;
        return pods.Where(p => p.Metadata.DeletionTimestamp is not null).Concat(deleted)
            .Where(p => p.Status?.Phase != "Succeeded")
            .Where(p => DeletionAsked(p) is not { } asked || deadline is null || asked < deadline)
            .OrderBy(p => DeletionAsked(p) ?? DateTime.MaxValue)
            .FirstOrDefault();
    }

    // When its deletion was asked for: the deletionTimestamp is that moment plus the grace period.
    private static DateTime? DeletionAsked(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is { } at ? at.AddSeconds(-(pod.Metadata.DeletionGracePeriodSeconds ?? 0)) : null;

    // GpuFleet's container's end, when it exited non-zero by itself: before any deletion of its pod was asked for.
    private static V1ContainerStateTerminated? OwnEnd(V1Pod pod)
    {
        var statuses = pod.Status?.ContainerStatuses ?? [];
        // The API server lists container statuses by name, not in the spec's order: take GpuFleet's container by name.
        var terminated = (statuses.FirstOrDefault(s => s.Name == KubernetesJobSpec.ContainerName) ?? statuses.FirstOrDefault())?.State?.Terminated;
        if (terminated is null || terminated.ExitCode == 0) return null;
        return DeletionAsked(pod) is not { } asked || terminated.FinishedAt is { } finished && finished < asked ? terminated : null;
    }

    private static V1JobCondition? True(IEnumerable<V1JobCondition> conditions, string type) =>
        conditions.FirstOrDefault(c => c.Type == type && c.Status == "True");
}
