using k8s.Models;

namespace GpuFleet.Executors.Kubernetes;

/// <summary>
/// The <c>batch/v1</c> Job that runs one placement: indexed, one pod per chosen node, each pod bound to
/// those nodes (required node affinity on their host names, and no two pods of the job on one node),
/// asking for its GPUs as <c>nvidia.com/gpu</c> limits, stopped by Kubernetes at the time limit.
/// </summary>
/// <remarks>
/// Example: job 42, 16 GPUs on nodes gpu-a and gpu-b → Job <c>gpufleet-42</c>, completions = parallelism = 2,
/// <c>completionMode: Indexed</c>, pods limited to 8 GPUs each, affinity <c>kubernetes.io/hostname in (gpu-a, gpu-b)</c>,
/// anti-affinity on <c>gpufleet.io/job-id=42</c> (and the installation's label, or its absence) per host, <c>activeDeadlineSeconds</c> = the limit, no retries, and a
/// toleration of the <c>nvidia.com/gpu:NoSchedule</c> taint that GPU node pools carry (GKE puts it on every GPU node;
/// only clusters with the ExtendedResourceToleration admission plugin add the toleration by themselves).
/// Every pod of one Job has the same shape, so a placement with unequal GPUs per node cannot be one Job:
/// such a launch is refused.
/// </remarks>
internal static class KubernetesJobSpec
{
    /// <summary>The one container of a GpuFleet pod (its status is found by this name).</summary>
    public const string ContainerName = "job";

    public static V1Job For(ExecutorLaunch launch, KubernetesExecutorOptions options, RunNames names)
    {
        var perNode = launch.Nodes.Select(n => n.Gpus.Count).Distinct().ToList();
        if (perNode.Count != 1)
            throw new ExecutorRejectedException($"a Kubernetes Job gives every pod the same GPUs; this placement has {string.Join(" and ", perNode)} GPUs on different nodes");
        var id = launch.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var labels = new Dictionary<string, string> { [KubernetesLabels.JobId] = id, [KubernetesLabels.Tenant] = LabelValue(launch.Tenant) };
        if (options.Installation is { } installation) labels[KubernetesLabels.Installation] = installation;
        var command = launch.Command ?? $"sleep {launch.RuntimeSeconds ?? launch.TimeLimitSeconds}";
        var nodes = launch.Nodes.Count;
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = names.Of(launch.JobId), Labels = labels, Annotations = new Dictionary<string, string> { ["gpufleet.io/name"] = launch.Name } },
            Spec = new V1JobSpec
            {
                CompletionMode = "Indexed",
                Completions = nodes,
                Parallelism = nodes,
                BackoffLimit = 0,
                ActiveDeadlineSeconds = launch.TimeLimitSeconds,
                TtlSecondsAfterFinished = 3600,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        Tolerations = [new V1Toleration { Key = KubernetesLabels.Gpu, OperatorProperty = "Exists", Effect = "NoSchedule" }],
                        Affinity = new V1Affinity
                        {
                            NodeAffinity = new V1NodeAffinity
                            {
                                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                                {
                                    NodeSelectorTerms = [new V1NodeSelectorTerm
                                    {
                                        MatchExpressions = [new V1NodeSelectorRequirement { Key = KubernetesLabels.Hostname, OperatorProperty = "In", Values = [.. launch.Nodes.Select(n => n.Node)] }],
                                    }],
                                },
                            },
                            PodAntiAffinity = new V1PodAntiAffinity
                            {
                                RequiredDuringSchedulingIgnoredDuringExecution = [new V1PodAffinityTerm
                                {
                                    TopologyKey = KubernetesLabels.Hostname,
                                    LabelSelector = SameJob(id, options.Installation),
                                }],
                            },
                        },
                        Containers =
                        [
                            new V1Container
                            {
                                Name = ContainerName,
                                Image = options.Image,
                                Command = ["/bin/sh", "-c", command],
                                Env = [new V1EnvVar { Name = "GPUFLEET_JOB_ID", Value = id }],
                                Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { [KubernetesLabels.Gpu] = new(perNode[0].ToString(System.Globalization.CultureInfo.InvariantCulture)) } },
                            },
                        ],
                    },
                },
            },
        };
    }

    // The pods of this job of this installation: another installation's job of the same id is another job.
    private static V1LabelSelector SameJob(string id, string? installation) => installation is null
        ? new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { [KubernetesLabels.JobId] = id },
            MatchExpressions = [new V1LabelSelectorRequirement { Key = KubernetesLabels.Installation, OperatorProperty = "DoesNotExist" }],
        }
        : new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [KubernetesLabels.JobId] = id, [KubernetesLabels.Installation] = installation } };

    // Label values: at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric.
    private static string LabelValue(string text)
    {
        var clean = new string([.. text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
        clean = clean.Length > 63 ? clean[..63] : clean;
        return clean.Trim('-', '_', '.');
    }
}
