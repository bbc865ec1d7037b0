using GpuFleet.Executors.Kubernetes;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>
/// GPU slices, CPU cores and memory as a Kubernetes Job's container asks for them: MIG instances as the NVIDIA
/// device plugin's <c>nvidia.com/mig-&lt;profile&gt;</c>, time-shared shares as <c>nvidia.com/gpu.shared</c>, and CPU
/// and memory requests and limits of the amount per GPU or slice times those on the node.
/// </summary>
[Trait("Category", "Integration")]
public sealed class KubernetesSliceTests
{
    private static async Task<(FakeKubernetesApi Api, KubernetesExecutor Executor)> StartAsync()
    {
        var api = await FakeKubernetesApi.StartAsync();
        for (var n = 1; n <= 2; n++) api.AddNode($"k{n}", 8, "NVIDIA-B200");
        return (api, new KubernetesExecutor(new KubernetesExecutorOptions(Namespace: "gpufleet", Host: api.Url)));
    }

    private static Dictionary<string, string> Of(IDictionary<string, k8s.Models.ResourceQuantity>? resources) =>
        resources?.ToDictionary(r => r.Key, r => r.Value.ToString()) ?? [];

    [Fact]
    public async Task Mig_slices_are_mig_resources_of_their_profile_with_cpu_and_memory_for_each()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(new ExecutorLaunch(7, "infer", "startups", "serve", 600, [new NodeGpus("k1", [3])])
        {
            CpusPerGpu = 4,
            MemoryGbPerGpu = 16,
            Slices = [new GpuSlice("k1", 3, "1g.23gb", 2, 1 / 7.0, 23), new GpuSlice("k1", 3, "1g.23gb", 3, 1 / 7.0, 23)],
        }, default);

        var resources = api.Job("gpufleet-7")!.Spec.Template.Spec.Containers.Single().Resources;
        Assert.Equal(new Dictionary<string, string> { ["nvidia.com/mig-1g.23gb"] = "2", ["cpu"] = "8", ["memory"] = "32Gi" }, Of(resources.Limits));
        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "8", ["memory"] = "32Gi" }, Of(resources.Requests));
    }

    [Fact]
    public async Task Time_shared_shares_are_shared_gpus_and_whole_gpus_get_cpu_and_memory_per_gpu()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        await executor.LaunchAsync(new ExecutorLaunch(8, "notebook", "startups", "jupyter", 600, [new NodeGpus("k2", [0, 1])])
        {
            CpusPerGpu = 1.5,
            Slices = [new GpuSlice("k2", 0, null, 0, 0.25, 20), new GpuSlice("k2", 1, null, 0, 0.25, 20)],
        }, default);
        var shared = api.Job("gpufleet-8")!.Spec.Template.Spec.Containers.Single().Resources;
        Assert.Equal(new Dictionary<string, string> { ["nvidia.com/gpu.shared"] = "2", ["cpu"] = "3" }, Of(shared.Limits));

        await executor.LaunchAsync(new ExecutorLaunch(9, "train", "startups", "train", 600,
            [new NodeGpus("k1", [.. Enumerable.Range(0, 8)]), new NodeGpus("k2", [.. Enumerable.Range(0, 8)])]) { CpusPerGpu = 12, MemoryGbPerGpu = 0.5 }, default);
        var whole = api.Job("gpufleet-9")!.Spec.Template.Spec.Containers.Single().Resources;
        Assert.Equal(new Dictionary<string, string> { ["nvidia.com/gpu"] = "8", ["cpu"] = "96", ["memory"] = "4Gi" }, Of(whole.Limits));
        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "96", ["memory"] = "4Gi" }, Of(whole.Requests));
    }

    [Fact]
    public async Task Pods_of_different_shapes_are_refused_naming_them()
    {
        var (api, executor) = await StartAsync();
        await using var _ = api;
        await using var __ = executor;
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => executor.LaunchAsync(new ExecutorLaunch(10, "t", "startups", "x", 600,
            [new NodeGpus("k1", [0, 1]), new NodeGpus("k2", [0])]) { CpusPerGpu = 2 }, default));
        Assert.Contains("4000m cpu, 2 nvidia.com/gpu and 2000m cpu, 1 nvidia.com/gpu", e.Message);
    }
}
