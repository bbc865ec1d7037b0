using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Tests;

[Trait("Category", "Unit")]
public sealed class ClusterPoolsTests
{
    private static readonly GpuModel[] Models = [new("B200", 192, 1000, 150, 2), new("H100", 80, 700, 100, 1)];

    private static Site SiteWith(params (string Key, string Value)[] settings) =>
        new("hpc", "o", "r", 1, 1.2) { Executor = new SiteExecutorSpec("slurm", new Dictionary<string, string>(settings.Select(s => KeyValuePair.Create(s.Key, s.Value))) { ["inventory"] = "cluster" }) };

    [Fact]
    public void Nodes_group_by_model_gpus_and_consecutive_names_as_in_the_worked_example()
    {
        ClusterNode[] nodes = [.. Enumerable.Range(1, 4).Select(i => new ClusterNode($"n{i:D2}", 8, "h100")), new("n05", 4, "h100"), new("n07", 8, "h100"), new("n08", 8, "h100")];
        var pools = ClusterPools.Of(SiteWith(), Models, nodes, "f");
        Assert.Equal([("H100", 8, 4, "n{01}"), ("H100", 8, 2, "n{07}"), ("H100", 4, 1, "n{05}")],
            pools.Select(p => (p.Model, p.GpusPerNode, p.Domains, p.NodeNames!)).ToList());
        var fleet = new Fleet("t", Models, [SiteWith()], pools);
        Assert.Equal(["n01", "n02", "n03", "n04", "n07", "n08", "n05"], Enumerable.Range(0, fleet.NodeCount).Select(fleet.NodeName).ToList());
    }

    [Fact]
    public void A_product_label_names_the_fleet_model_it_contains_and_unnamed_nodes_take_the_executors_model()
    {
        var pools = ClusterPools.Of(SiteWith(("model", "B200"), ("nodeOverheadWatts", "1500")), Models,
            [new("gpu-1", 8, "NVIDIA-H100-80GB-HBM3"), new("gpu-2", 8, null), new("cpu-1", 0, null)], "f");
        Assert.Equal([("H100", "gpu-{1}", 1500.0), ("B200", "gpu-{2}", 1500.0)], pools.Select(p => (p.Model, p.NodeNames!, p.NodeOverheadWatts)).ToList());
    }

    [Theory]
    [InlineData("gpu-a", "h100", null, "the cluster's node 'gpu-a' does not end in a number")]
    [InlineData("n1", "a100", null, "the cluster's GPU model 'a100' of node 'n1' is none of the fleet's models (B200, H100)")]
    [InlineData("n1", null, null, "the cluster does not say which GPUs node 'n1' has: set the executor's model")]
    [InlineData("n1", null, "L40S", "model 'L40S' is not one of the fleet's models")]
    public void Nodes_the_fleet_cannot_hold_are_errors_naming_them(string name, string? model, string? fallback, string problem)
    {
        var site = fallback is null ? SiteWith() : SiteWith(("model", fallback));
        var e = Assert.Throws<FleetValidationException>(() => ClusterPools.Of(site, Models, [new ClusterNode(name, 8, model)], "sites[0].executor.inventory"));
        Assert.Equal("sites[0].executor.inventory", e.Field);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void A_cluster_without_gpu_nodes_is_an_error() =>
        Assert.Contains("lists no node with GPUs", Assert.Throws<FleetValidationException>(() => ClusterPools.Of(SiteWith(), Models, [new ClusterNode("cpu1", 0, null)], "f")).Message);
}
