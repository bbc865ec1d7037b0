using GpuFleet.Executors.Kubernetes;
using k8s.Models;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>
/// The Kubernetes executor against an API server on 127.0.0.1 (<see cref="FakeKubernetesApi"/>) whose answers have
/// the recorded shapes and whose Job controller does what Kubernetes' does; the test moves the pods.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KubernetesExecutorTests
{
    private static ExecutorLaunch Gang(long id, int nodes, int gpusPerNode = 8, long limit = 3600) =>
        new(id, "train", "startups", "python train.py", limit, [.. Enumerable.Range(1, nodes).Select(n => new NodeGpus($"k{n}", [.. Enumerable.Range(0, gpusPerNode)]))]);

    private static async Task<(FakeKubernetesApi Api, KubernetesExecutor Executor)> StartAsync()
    {
        var api = await FakeKubernetesApi.StartAsync();
        for (var n = 1; n <= 4; n++) api.AddNode($"k{n}", 8, "NVIDIA-B200");
        return (api, new KubernetesExecutor(new KubernetesExecutorOptions(Namespace: "gpufleet", Host: api.Url)));
    }

    [Fact]
    public async Task A_gang_of_four_pods_is_placed_on_the_chosen_nodes_and_finishes()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(Gang(1, 4), default);
        await executor.LaunchAsync(Gang(1, 4), default);   // again, as after a crash: nothing new

        var job = api.Job("gpufleet-1")!;
        Assert.Equal(("Indexed", 4, 4, 0, 3600L), (job.Spec.CompletionMode, job.Spec.Completions, job.Spec.Parallelism, job.Spec.BackoffLimit, job.Spec.ActiveDeadlineSeconds!.Value));
        var container = job.Spec.Template.Spec.Containers.Single();
        Assert.Equal("8", container.Resources.Limits["nvidia.com/gpu"].ToString());
        Assert.Equal(["/bin/sh", "-c", "python train.py"], container.Command);
        Assert.Equal(["k1", "k2", "k3", "k4"], job.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values);
        Assert.Equal("kubernetes.io/hostname", job.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution.Single().TopologyKey);
        var toleration = job.Spec.Template.Spec.Tolerations.Single();
        Assert.Equal(("nvidia.com/gpu", "Exists", "NoSchedule"), (toleration.Key, toleration.OperatorProperty, toleration.Effect));
        Assert.Equal(4, api.PodsOf("gpufleet-1").Count);

        var pending = await executor.ObserveAsync(default);
        Assert.Empty(pending.Events);
        // Bound to their nodes, not running yet: the run waits, and says so.
        Assert.Equal((1L, "Pending"), (pending.Runs.Single().JobId, pending.Runs.Single().Waiting));

        api.RunPods("gpufleet-1");
        var started = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal(ExecutorEventKind.Started, started.Kind);
        Assert.Equal(["k1", "k2", "k3", "k4"], started.Nodes);
        Assert.Null(Assert.Single((await executor.ObserveAsync(default)).Runs).Waiting);

        api.ExitPods("gpufleet-1");
        Assert.Equal(["SuccessCriteriaMet", "Complete"], api.Job("gpufleet-1")!.Status.Conditions.Select(c => c.Type));
        var seen = await executor.ObserveAsync(default);
        var finished = Assert.Single(seen.Events);
        Assert.Equal((ExecutorEventKind.Finished, 0), (finished.Kind, finished.ExitCode));
        Assert.Empty(seen.Runs);
        Assert.Empty((await executor.ObserveAsync(default)).Events);   // reported once
    }

    [Fact]
    public async Task A_watch_whose_version_expired_lists_again_and_loses_no_change()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(Gang(2, 2), default);
        Assert.Empty((await executor.ObserveAsync(default)).Events);
        // The pods start, and then the server forgets the history the executor would resume from.
        api.RunPods("gpufleet-2");
        api.Compact();
        var seen = await executor.ObserveAsync(default);
        Assert.Equal(1, executor.Relists);
        var started = Assert.Single(seen.Events);
        Assert.Equal((ExecutorEventKind.Started, 2L), (started.Kind, started.JobId));
        Assert.Equal(2, seen.Runs.Single().JobId);
        // And the watch goes on from the fresh list. Index 0 exits 3: the Job controller fails the Job and deletes index 1.
        api.ExitPods("gpufleet-2", exitCode: 3, index: 0);
        Assert.Equal("FailureTarget", api.Job("gpufleet-2")!.Status.Conditions.Single().Type);
        Assert.NotNull(api.PodsOf("gpufleet-2").Single(p => p.Status.Phase == "Running").Metadata.DeletionTimestamp);
        var failed = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal((ExecutorEventKind.Finished, 3), (failed.Kind, failed.ExitCode));
        Assert.Equal(1, executor.Relists);
    }

    [Fact]
    public async Task A_pod_deleted_behind_gpufleets_back_loses_the_run_and_the_rest_of_the_gang_is_deleted()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(Gang(3, 2), default);
        api.RunPods("gpufleet-3");
        Assert.Equal(ExecutorEventKind.Started, Assert.Single((await executor.ObserveAsync(default)).Events).Kind);
        // kubectl delete pod: the pod terminates; the Job controller counts it failed, gives up the Job and deletes the other.
        api.DeletePod(api.PodsOf("gpufleet-3")[0].Metadata.Name);
        Assert.Equal("BackoffLimitExceeded", api.Job("gpufleet-3")!.Status.Conditions.Single(c => c.Type == "FailureTarget").Reason);
        var lost = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal(ExecutorEventKind.Lost, lost.Kind);
        Assert.Contains("deleted outside GpuFleet", lost.Detail);
        Assert.Null(api.Job("gpufleet-3"));
        api.FinishTerminations();
        Assert.Empty(api.PodsOf("gpufleet-3"));
        Assert.Empty((await executor.ObserveAsync(default)).Events);
    }

    [Fact]
    public async Task A_pod_deleted_behind_gpufleets_back_is_noticed_after_the_whole_gang_is_gone_and_the_job_failed()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(Gang(4, 2), default);
        api.RunPods("gpufleet-4");
        await executor.ObserveAsync(default);
        // All of it happens between two looks: both pods end 137 on SIGKILL, Failed, and are gone; the Job is Failed.
        api.DeletePod(api.PodsOf("gpufleet-4")[1].Metadata.Name);
        api.FinishTerminations();
        Assert.Empty(api.PodsOf("gpufleet-4"));
        Assert.Equal(["FailureTarget", "Failed"], api.Job("gpufleet-4")!.Status.Conditions.Select(c => c.Type));
        var lost = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal(ExecutorEventKind.Lost, lost.Kind);
        Assert.Contains("gpufleet-4-1-", lost.Detail);
    }

    [Fact]
    public async Task A_pod_the_taint_manager_evicts_from_a_failed_node_is_a_node_failure()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(Gang(5, 2), default);
        api.RunPods("gpufleet-5");
        await executor.ObserveAsync(default);
        api.DeletePod(api.PodsOf("gpufleet-5")[0].Metadata.Name, disruption: "DeletionByTaintManager");
        var failure = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal(ExecutorEventKind.NodeFailure, failure.Kind);
        Assert.Contains("DeletionByTaintManager", failure.Detail);
        Assert.Null(api.Job("gpufleet-5"));
    }

    [Fact]
    public async Task Ends_map_to_timeouts_out_of_memory_exit_codes_cancels_and_lost_jobs()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        for (var id = 10; id <= 14; id++) await executor.LaunchAsync(Gang(id, 1), default);
        for (var id = 10; id <= 14; id++) api.RunPods($"gpufleet-{id}");
        await executor.ObserveAsync(default);
        api.ExpireDeadline("gpufleet-10");
        api.ExitPods("gpufleet-11", exitCode: 137, reason: "OOMKilled");
        api.ExitPods("gpufleet-12", exitCode: 2);
        await executor.CancelAsync(13, default);
        api.DeleteJobOutside("gpufleet-14");
        api.Calls.Clear();
        var ends = (await executor.ObserveAsync(default)).Events.Where(e => e.Ends).ToDictionary(e => e.JobId);
        // One look at five jobs is one pod watch and one list of Jobs, not a call per job.
        Assert.Equal(["WATCH pods", "GET /apis/batch/v1/namespaces/gpufleet/jobs"], api.Calls.Select(c => c.StartsWith("WATCH", StringComparison.Ordinal) ? "WATCH pods" : c.Split('?')[0]).Distinct());
        Assert.Equal(2, api.Calls.Count);
        Assert.Equal(ExecutorEventKind.TimedOut, ends[10].Kind);
        Assert.Contains("Job was active longer than specified deadline", ends[10].Detail);
        Assert.Equal((ExecutorEventKind.OutOfMemory, 137), (ends[11].Kind, ends[11].ExitCode));
        Assert.Equal((ExecutorEventKind.Finished, 2), (ends[12].Kind, ends[12].ExitCode));
        Assert.Equal(ExecutorEventKind.Cancelled, ends[13].Kind);
        Assert.Equal(ExecutorEventKind.Lost, ends[14].Kind);
        Assert.Null(api.Job("gpufleet-13"));
    }

    [Fact]
    public async Task The_inventory_reads_gpus_models_node_states_and_gpus_held_by_pods_gpufleet_did_not_create()
    {
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        api.AddNode("k1", 8, "NVIDIA-B200");
        api.AddNode("k2", 8, "NVIDIA-B200", unschedulable: true);
        api.AddNode("k3", 4, "NVIDIA-H100-80GB-HBM3", ready: false);
        api.AddNode("k4", 8, "NVIDIA-B200", taints: new V1Taint { Key = "nvidia.com/gpu", Value = "present", Effect = "NoSchedule" });
        api.AddNode("k5", 8, "NVIDIA-B200", taints: new V1Taint { Key = "dedicated", Value = "inference", Effect = "NoSchedule" });
        api.AddNode("k6", 8, "NVIDIA-B200", taints: new V1Taint { Key = "dedicated", Value = "inference", Effect = "PreferNoSchedule" });
        api.AddNode("cpu1", 0, "none");
        api.AddForeignPod("notebook", "k1", 2);
        await using var executor = new KubernetesExecutor(new KubernetesExecutorOptions(Namespace: "gpufleet", Host: api.Url));
        await executor.LaunchAsync(Gang(20, 1), default);   // on k1: GpuFleet's own, not held by others
        var nodes = (await executor.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);
        // Allocatable cpu 64 and memory 1056515816Ki (1,007.6 GiB): 64 cores and 1,007 GB.
        Assert.Equal(new InventoryNode("k1", 8, "NVIDIA-B200", InventoryNodeState.Up, 2, Cpus: 64, MemoryGb: 1007), nodes["k1"]);
        Assert.Equal(InventoryNodeState.Drained, nodes["k2"].State);
        Assert.Equal((4, "NVIDIA-H100-80GB-HBM3", InventoryNodeState.Down), (nodes["k3"].Gpus, nodes["k3"].Model, nodes["k3"].State));
        Assert.Equal(InventoryNodeState.Up, nodes["k4"].State);        // the GPU pool's taint: tolerated
        Assert.Equal(InventoryNodeState.Drained, nodes["k5"].State);   // someone else's: GpuFleet's pods would stay Pending
        Assert.Equal(InventoryNodeState.Up, nodes["k6"].State);        // a preference only
        Assert.Equal((0, null), (nodes["cpu1"].Gpus, nodes["cpu1"].Model));
    }

    [Fact]
    public async Task Two_installations_in_one_namespace_each_follow_and_delete_only_their_own_jobs()
    {
        var (api, unnamed) = await StartAsync();
        await using var _ = api;
        await using var __ = unnamed;
        await using var prod = new KubernetesExecutor(new KubernetesExecutorOptions(Namespace: "gpufleet", Host: api.Url, Installation: "prod"));
        // Job 1 of each installation: two Jobs, on the same node.
        await unnamed.LaunchAsync(Gang(1, 1, gpusPerNode: 2), default);
        await prod.LaunchAsync(Gang(1, 1, gpusPerNode: 3), default);
        var theirs = api.Job("gpufleet-1")!;
        var mine = api.Job("gpufleet-prod-1")!;
        Assert.Equal("prod", mine.Metadata.Labels["gpufleet.io/installation"]);
        Assert.Equal("prod", mine.Spec.Template.Metadata.Labels["gpufleet.io/installation"]);
        Assert.False(theirs.Metadata.Labels.ContainsKey("gpufleet.io/installation"));
        // The one-pod-per-node rule is per job of one installation: job 1 of the other may share the node.
        var spread = mine.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution.Single().LabelSelector;
        Assert.Equal(new Dictionary<string, string> { ["gpufleet.io/job-id"] = "1", ["gpufleet.io/installation"] = "prod" }, spread.MatchLabels);
        var unnamedSpread = theirs.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution.Single().LabelSelector;
        Assert.Equal(("gpufleet.io/installation", "DoesNotExist"), (unnamedSpread.MatchExpressions.Single().Key, unnamedSpread.MatchExpressions.Single().OperatorProperty));

        // Each lists and watches its own only (the API server filters by the selector it is sent).
        api.Calls.Clear();
        Assert.Equal([(1L, "gpufleet-prod-1")], (await prod.ObserveAsync(default)).Runs.Select(r => (r.JobId, r.ExternalId)));
        Assert.Contains(api.Calls, c => c.StartsWith("GET /apis/batch/v1/namespaces/gpufleet/jobs?labelSelector=gpufleet.io%2Fjob-id%2Cgpufleet.io%2Finstallation%3Dprod", StringComparison.Ordinal));
        Assert.Equal([(1L, "gpufleet-1")], (await unnamed.ObserveAsync(default)).Runs.Select(r => (r.JobId, r.ExternalId)));
        api.RunPods("gpufleet-prod-1");
        Assert.Equal(ExecutorEventKind.Started, Assert.Single((await prod.ObserveAsync(default)).Events).Kind);
        Assert.Empty((await unnamed.ObserveAsync(default)).Events);

        // The other installation's pods are the cluster's other users: their GPUs are held by others.
        Assert.Equal(3, (await unnamed.InventoryAsync(default)).Nodes.Single(n => n.Name == "k1").GpusHeldByOthers);
        Assert.Equal(2, (await prod.InventoryAsync(default)).Nodes.Single(n => n.Name == "k1").GpusHeldByOthers);

        // A cancel deletes its own Job only; the other installation's job 1 runs on, and neither loses anything.
        await prod.CancelAsync(1, default);
        Assert.Null(api.Job("gpufleet-prod-1"));
        Assert.NotNull(api.Job("gpufleet-1"));
        Assert.Equal(ExecutorEventKind.Cancelled, Assert.Single((await prod.ObserveAsync(default)).Events).Kind);
        var still = await unnamed.ObserveAsync(default);
        Assert.Empty(still.Events);
        Assert.Equal(1, still.Runs.Single().JobId);
    }

    [Fact]
    public async Task The_nvlink_clique_label_of_gb200_nodes_makes_each_clique_one_domain_of_the_pool()
    {
        // Two racks' worth of GB200 nodes (4 GPUs each) as GPU feature discovery labels them, and one whose GPUs'
        // fabric is not up (GFD then sets no clique label): the value is <cluster UUID>.<clique id>.
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        const string fabric = "ad1e7f5c-95d4-4c66-8d7b-1c6f0bd3e2a9";
        for (var n = 1; n <= 7; n++) api.AddNode($"gb200-{n:D2}", 4, "NVIDIA-GB200");
        foreach (var n in new[] { 1, 2, 4 }) api.Label($"gb200-{n:D2}", "nvidia.com/gpu.clique", $"{fabric}.32766");
        foreach (var n in new[] { 5, 6, 7 }) api.Label($"gb200-{n:D2}", "nvidia.com/gpu.clique", $"{fabric}.32767");
        await using var executor = new KubernetesExecutor(new KubernetesExecutorOptions(Namespace: "gpufleet", Host: api.Url));
        var inventory = (await executor.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);
        Assert.Equal($"{fabric}.32766", inventory["gb200-01"].NvlinkDomain);
        Assert.Equal($"{fabric}.32767", inventory["gb200-07"].NvlinkDomain);
        Assert.Null(inventory["gb200-03"].NvlinkDomain);

        // With inventory: cluster, the site's pool has one NVLink domain per clique, whatever the numbering.
        var site = new GpuFleet.Core.Fleets.Site("ai-factory", "o", "r", 10, 1.2)
        {
            Executor = new GpuFleet.Core.Fleets.SiteExecutorSpec("kubernetes", new Dictionary<string, string> { ["inventory"] = "cluster" }),
        };
        GpuFleet.Core.Fleets.GpuModel[] models = [new("GB200", 186, 1200, 150, 2.5)];
        var pools = GpuFleet.Core.Fleets.ClusterPools.Of(site, models,
            [.. inventory.Values.Select(n => new GpuFleet.Core.Fleets.ClusterNode(n.Name, n.Gpus, n.Model, n.NvlinkDomain))], "sites[0].executor.inventory");
        var fleet = new GpuFleet.Core.Fleets.Fleet("f", models, [site], pools);
        var domains = Enumerable.Range(0, fleet.DomainCount)
            .Select(d => string.Join(",", Enumerable.Range(fleet.DomainFirstNode(d), fleet.DomainNodeCount(d)).Select(fleet.NodeName))).Order().ToList();
        Assert.Equal(["gb200-01,gb200-02,gb200-04", "gb200-03", "gb200-05,gb200-06,gb200-07"], domains);
        Assert.Equal(12, fleet.PoolMaxDomainGpus(0));
    }

    [Fact]
    public async Task Uneven_gpus_per_node_are_refused_and_a_closed_port_is_unreachable()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        var uneven = new ExecutorLaunch(30, "x", "t", null, 60, [new NodeGpus("k1", [0, 1, 2, 3, 4, 5, 6, 7]), new NodeGpus("k2", [0, 1, 2, 3])]);
        Assert.Contains("same GPUs", (await Assert.ThrowsAsync<ExecutorRejectedException>(() => executor.LaunchAsync(uneven, default))).Message);
        Assert.Null(api.Job("gpufleet-30"));

        await using var nowhere = new KubernetesExecutor(new KubernetesExecutorOptions(Host: "http://127.0.0.1:1"));
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => nowhere.ObserveAsync(default));
        await Assert.ThrowsAsync<ExecutorUnreachableException>(() => nowhere.LaunchAsync(Gang(31, 1), default));
    }
}
