using GpuFleet.Executors.Kubernetes;
using k8s;
using k8s.Models;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>
/// The executor's reading of answers real API servers gave (<c>Recorded/kubernetes/</c>, its README says where each
/// comes from): nodes into the inventory, Jobs and their pods into events, a watch's ERROR and BOOKMARK events.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KubernetesRecordedAnswerTests
{
    private static KubernetesExecutor Executor(FakeKubernetesApi api) => new(new KubernetesExecutorOptions(Namespace: "default", Host: api.Url));

    [Fact]
    public async Task A_recorded_node_and_pod_list_become_an_inventory_with_control_plane_taints_drained()
    {
        // Eleven nodes of one cluster (Kubernetes 1.9, CoreOS on Azure), and pods of the same cluster a moment before.
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        foreach (var node in RecordedKubernetes.Read<V1NodeList>("hkube-2018-nodes.json").Items) api.AddNode(node);
        foreach (var pod in RecordedKubernetes.Read<V1PodList>("hkube-2018-pods.json").Items) api.AddPod(pod);
        await using var executor = Executor(api);
        var nodes = (await executor.InventoryAsync(default)).Nodes.ToDictionary(n => n.Name);
        Assert.Equal(11, nodes.Count);
        // node1–3 carry node-role.kubernetes.io/master:NoSchedule, which GpuFleet's pods do not tolerate.
        Assert.Equal(["node1", "node2", "node3"], nodes.Values.Where(n => n.State == InventoryNodeState.Drained).Select(n => n.Name).Order());
        Assert.All(nodes.Values.Where(n => n.Name is not ("node1" or "node2" or "node3")), n => Assert.Equal(InventoryNodeState.Up, n.State));
        // No device plugin, no GPU label, no pod asking for nvidia.com/gpu.
        Assert.All(nodes.Values, n => Assert.Equal((0, null, 0), (n.Gpus, n.Model, n.GpusHeldByOthers)));
        // CPU and memory as allocatable says, in whole cores and GB: node1's "3800m" and "15801632Ki" (15.07 GiB).
        Assert.Equal((3, 15), (nodes["node1"].Cpus, nodes["node1"].MemoryGb));
    }

    [Theory]
    [InlineData("apimachinery-gke-node.yaml", InventoryNodeState.Up)]      // GKE, with node-problem-detector's conditions all False
    [InlineData("insights-2021-worker-node.json", InventoryNodeState.Up)]  // OpenShift 4.7 worker
    [InlineData("insights-2021-master-node.json", InventoryNodeState.Drained)] // its master: node-role.kubernetes.io/master:NoSchedule
    public void A_recorded_node_reads_as_its_conditions_and_taints_say(string file, InventoryNodeState state)
    {
        var node = RecordedKubernetes.Read<V1Node>(file);
        Assert.Equal((0, null, state), (KubernetesNodes.GpusOf(node), KubernetesNodes.ModelOf(node.Metadata.Labels), KubernetesNodes.StateOf(node)));
    }

    [Fact]
    public void Gpu_feature_discovery_s_labels_give_the_model_verbatim()
    {
        var labels = KubernetesYaml.Deserialize<Dictionary<string, Dictionary<string, string>>>(RecordedKubernetes.Text("nvidia-gfd-node-labels.yaml"))["labels"];
        Assert.Equal("A100-SXM4-40GB", KubernetesNodes.ModelOf(labels));
        Assert.Equal("1", labels["nvidia.com/gpu.count"]);
    }

    [Fact]
    public async Task Recorded_running_job_pods_start_the_run_on_their_node()
    {
        // A Job and its pod from a 2025 cluster (AWS, eu-west-1): running, the job-tracking finalizer on the pod,
        // its two containers' statuses in name order. Given GpuFleet's label, they are job 7's.
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        var job = RecordedKubernetes.Labelled(RecordedKubernetes.Read<V1JobList>("hkube-2025-jobs.json").Items[0], 7);
        var pod = RecordedKubernetes.Labelled(RecordedKubernetes.Read<List<V1Pod>>("hkube-2025-pods.json")[0], 7);
        Assert.Equal(job.Metadata.Name, pod.Metadata.OwnerReferences.Single().Name);
        api.AddJob(job, pod);
        await using var executor = Executor(api);
        var seen = await executor.ObserveAsync(default);
        var started = Assert.Single(seen.Events);
        Assert.Equal((ExecutorEventKind.Started, 7L), (started.Kind, started.JobId));
        Assert.Equal(["ip-172-20-17-40.eu-west-1.compute.internal"], started.Nodes);
        Assert.Equal(("print-every-10-sec-shi9j", 7L), (seen.Runs.Single().ExternalId, seen.Runs.Single().JobId));
    }

    [Fact]
    public async Task A_recorded_failed_job_pod_and_a_backoff_limit_failure_end_the_run_with_the_container_s_exit_code()
    {
        // A Job pod of 2024 (OpenShift) whose container exited 3 ("Error"), and a Job of 2020 that the Job controller
        // failed with BackoffLimitExceeded: what a GpuFleet Job (backoffLimit 0) shows when its program fails.
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        var job = RecordedKubernetes.Labelled(RecordedKubernetes.Read<V1Job>("hkube-2020-failed-job.json"), 8);
        var pod = RecordedKubernetes.Labelled(RecordedKubernetes.Read<V1Pod>("insights-2024-failed-job-pod.json"), 8);
        api.AddJob(job, pod);
        await using var executor = Executor(api);
        var end = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal((ExecutorEventKind.Finished, 3), (end.Kind, end.ExitCode));
    }

    [Fact]
    public async Task A_recorded_failed_job_without_its_pods_is_a_failure_in_the_job_controller_s_words()
    {
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        api.AddJob(RecordedKubernetes.Labelled(RecordedKubernetes.Read<V1Job>("hkube-2020-failed-job.json"), 9));
        await using var executor = Executor(api);
        var end = Assert.Single((await executor.ObserveAsync(default)).Events);
        Assert.Equal(ExecutorEventKind.Failed, end.Kind);
        Assert.Equal("Kubernetes failed the Job: BackoffLimitExceeded Job has reached the specified backoff limit", end.Detail);
    }

    [Fact]
    public void A_job_gpufleet_cancelled_and_the_controller_then_failed_is_cancelled()
    {
        // Deleting a Job deletes its pods, which the Job controller counts as failures if it still syncs the Job.
        var job = RecordedKubernetes.Read<V1Job>("hkube-2020-failed-job.json");
        Assert.Equal(ExecutorEventKind.Cancelled, KubernetesJobEnd.Of(12, job, [], [], cancelled: true, DateTimeOffset.UnixEpoch)!.Kind);
        Assert.Equal(ExecutorEventKind.Failed, KubernetesJobEnd.Of(12, job, [], [], cancelled: false, DateTimeOffset.UnixEpoch)!.Kind);
    }

    [Fact]
    public async Task A_recorded_running_job_from_kubectl_is_a_run_without_events()
    {
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        api.AddJob(RecordedKubernetes.Labelled(RecordedKubernetes.Read<V1Job>("website-job-pi.yaml"), 10));
        await using var executor = Executor(api);
        var seen = await executor.ObserveAsync(default);
        Assert.Empty(seen.Events);
        Assert.Equal(("pi", 10L), (seen.Runs.Single().ExternalId, seen.Runs.Single().JobId));
    }

    [Fact]
    public async Task A_recorded_410_error_event_makes_the_watch_list_again()
    {
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        await using var executor = Executor(api);
        await executor.ObserveAsync(default);
        api.AnswerNextWatch(File.ReadAllLines(RecordedKubernetes.Path("csharp-client-watch-gone.jsonl")));
        api.Calls.Clear();
        await executor.ObserveAsync(default);
        Assert.Equal(1, executor.Relists);
        Assert.Contains(api.Calls, c => c.StartsWith("GET /api/v1/namespaces/default/pods?", StringComparison.Ordinal) && !c.Contains("watch=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_recorded_bookmark_moves_the_watch_on_to_its_version_and_is_no_pod()
    {
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        await using var executor = Executor(api);
        await executor.ObserveAsync(default);
        api.AnswerNextWatch(File.ReadAllLines(RecordedKubernetes.Path("website-watch-bookmark.jsonl")));
        Assert.Empty((await executor.ObserveAsync(default)).Events);
        api.Calls.Clear();
        await executor.ObserveAsync(default);
        Assert.Contains("WATCH pods from 12746", api.Calls);
        Assert.Equal(0, executor.Relists);
    }

    [Fact]
    public async Task A_recorded_job_as_the_api_server_returns_it_is_accepted_as_created()
    {
        var api = await FakeKubernetesApi.StartAsync();
        await using var _ = api;
        await using var executor = Executor(api);
        // The first Job of the recorded list, as it was written (the fake answers the creation with it).
        api.NextCreatedJob = System.Text.Json.Nodes.JsonNode.Parse(RecordedKubernetes.Text("hkube-2025-jobs.json"))!["items"]![0]!.ToJsonString();
        await executor.LaunchAsync(new ExecutorLaunch(11, "train", "startups", "python train.py", 3600, [new NodeGpus("k1", [0, 1])]), default);
        Assert.NotNull(api.Job("gpufleet-11"));
        Assert.Null(api.NextCreatedJob);
    }
}
