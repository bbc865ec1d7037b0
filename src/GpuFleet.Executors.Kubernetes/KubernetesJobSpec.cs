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
/// <para>Slices and CPU/memory: a MIG instance is asked for as <c>nvidia.com/mig-&lt;profile&gt;</c> (the NVIDIA device plugin's
/// "mixed" MIG strategy), a time-shared share as one <c>nvidia.com/gpu.shared</c> (its time-slicing with
/// <c>renameByDefault: true</c>); CPU cores and memory are requests and limits of the job's amount per GPU or slice times
/// those on the node (8 GPUs × 4 cores → <c>cpu: 32000m</c>).</para>
/// </remarks>
internal static class KubernetesJobSpec
{
    /// <summary>The one container of a GpuFleet pod (its status is found by this name).</summary>
    public const string ContainerName = "job";

    public static V1Job For(ExecutorLaunch launch, KubernetesExecutorOptions options, RunNames names)
    {
        var shapes = launch.Nodes.Select(n => Resources(launch, n.Node)).ToList();
        var perNode = shapes.Select(Describe).Distinct().ToList();
        if (perNode.Count != 1)
            throw new ExecutorRejectedException($"a Kubernetes Job gives every pod the same GPUs; this placement has {string.Join(" and ", perNode)} on different nodes");
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
                                Resources = Requirements(shapes[0]),
                            },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>The NVIDIA device plugin's resource for MIG instances of <paramref name="profile"/> ("mixed" MIG strategy): <c>nvidia.com/mig-1g.23gb</c>.</summary>
    public static string MigResource(string profile) => "nvidia.com/mig-" + profile;

    /// <summary>The NVIDIA device plugin's resource for time-sliced GPUs that it renames (<c>renameByDefault: true</c>).</summary>
    public const string SharedGpu = "nvidia.com/gpu.shared";

    // What one pod asks for on a node, by resource name: its GPUs (whole, MIG instances by profile, or time-sliced
    // shares, one replica each) and its CPU cores and memory for them (per GPU or slice × those on the node).
    private static SortedDictionary<string, string> Resources(ExecutorLaunch launch, string node)
    {
        var resources = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (launch.Slices is null)
        {
            var gpus = launch.Nodes.Where(n => n.Node == node).Sum(n => n.Gpus.Count);
            resources[KubernetesLabels.Gpu] = gpus.ToString(inv);
        }
        else
        {
            var slices = launch.SlicesOn(node);
            foreach (var g in slices.GroupBy(s => s.MigProfile is null ? SharedGpu : MigResource(s.MigProfile), StringComparer.Ordinal))
                resources[g.Key] = g.Count().ToString(inv);
        }
        var units = launch.UnitsOn(node);
        // Whole millicores and MiB, rounded up (GB here are GiB, as Slurm counts them).
        if (launch.CpusPerGpu > 0) resources["cpu"] = ((long)Math.Ceiling(launch.CpusPerGpu * units * 1000)).ToString(inv) + "m";
        if (launch.MemoryGbPerGpu > 0) resources["memory"] = ((long)Math.Ceiling(launch.MemoryGbPerGpu * units * 1024)).ToString(inv) + "Mi";
        return resources;
    }

    // "8 nvidia.com/gpu", "2 nvidia.com/mig-1g.23gb, 4000m cpu": a pod's shape in a refusal.
    private static string Describe(SortedDictionary<string, string> resources) => string.Join(", ", resources.Select(r => $"{r.Value} {r.Key}"));

    // Extended resources (GPUs) are limits (Kubernetes sets the request equal); CPU and memory are requested and limited alike,
    // so that the pod gets exactly what was placed (the Guaranteed class when every resource is given).
    private static V1ResourceRequirements Requirements(SortedDictionary<string, string> resources)
    {
        var limits = resources.ToDictionary(r => r.Key, r => new ResourceQuantity(r.Value));
        var requests = resources.Where(r => r.Key is "cpu" or "memory").ToDictionary(r => r.Key, r => new ResourceQuantity(r.Value));
        return requests.Count == 0 ? new V1ResourceRequirements { Limits = limits } : new V1ResourceRequirements { Limits = limits, Requests = requests };
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
