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
    public void Cpu_cores_and_memory_the_cluster_lists_are_the_pools_and_other_numbers_start_a_new_specification()
    {
        // n01-n03 of 64 cores and 1,000 GB; n04 of 32 cores (a smaller board in the same rack of names); n05-n06 say nothing.
        ClusterNode[] nodes =
        [
            .. Enumerable.Range(1, 3).Select(i => new ClusterNode($"n{i:D2}", 8, "h100", Cpus: 64, MemoryGb: 1000)),
            new("n04", 8, "h100", Cpus: 32, MemoryGb: 1000), new("n05", 8, "h100"), new("n06", 8, "h100"),
        ];
        var pools = ClusterPools.Of(SiteWith(), Models, nodes, "f");
        Assert.Equal([("n{01}", 3, 64, 1000), ("n{04}", 1, 32, 1000), ("n{05}", 2, 0, 0)],
            pools.Select(p => (p.NodeNames!, p.Domains, p.CpusPerNode, p.MemoryGbPerNode)).OrderBy(p => p.Item1, StringComparer.Ordinal).ToList());
        var fleet = new Fleet("t", Models, [SiteWith()], pools);
        Assert.Equal(64, fleet.PoolSpecs[fleet.NodeSpec(fleet.NodeIndex("n02"))].CpusPerNode);
        Assert.Equal(0, fleet.PoolSpecs[fleet.NodeSpec(fleet.NodeIndex("n06"))].CpusPerNode);
    }

    [Fact]
    public void A_product_label_names_the_fleet_model_it_contains_and_unnamed_nodes_take_the_executors_model()
    {
        var pools = ClusterPools.Of(SiteWith(("model", "B200"), ("nodeOverheadWatts", "1500")), Models,
            [new("gpu-1", 8, "NVIDIA-H100-80GB-HBM3"), new("gpu-2", 8, null), new("cpu-1", 0, null)], "f");
        Assert.Equal([("H100", "gpu-{1}", 1500.0), ("B200", "gpu-{2}", 1500.0)], pools.Select(p => (p.Model, p.NodeNames!, p.NodeOverheadWatts)).ToList());
    }

    [Fact]
    public void Nodes_of_one_nvlink_clique_are_one_domain_whatever_their_numbering()
    {
        // Two GB200 NVL72-like racks of 4-GPU nodes: clique .1 is gb-01..gb-05 without gb-03 (out for repair), clique .2 is
        // gb-06..gb-08; gb-09 has no clique (a domain of its own), and neither has gb-10.
        const string rack1 = "0f5ec1c8-2b1c-4b8e-9d6b-5b3f2f7d1a11.1", rack2 = "0f5ec1c8-2b1c-4b8e-9d6b-5b3f2f7d1a11.2";
        ClusterNode[] nodes =
        [
            new("gb-01", 4, "NVIDIA-B200", rack1), new("gb-02", 4, "NVIDIA-B200", rack1), new("gb-04", 4, "NVIDIA-B200", rack1), new("gb-05", 4, "NVIDIA-B200", rack1),
            new("gb-06", 4, "NVIDIA-B200", rack2), new("gb-07", 4, "NVIDIA-B200", rack2), new("gb-08", 4, "NVIDIA-B200", rack2),
            new("gb-09", 4, "NVIDIA-B200"), new("gb-10", 4, "NVIDIA-B200", ""),
        ];
        var pools = ClusterPools.Of(SiteWith(), Models, nodes, "f");
        Assert.Equal([("gb-{09}", 1, 2, null), ("gb-{01}", 2, 1, rack1), ("gb-{04}", 2, 1, rack1), ("gb-{06}", 3, 1, rack2)],
            pools.Select(p => (p.NodeNames!, p.NodesPerDomain, p.Domains, p.NvlinkDomain)).ToList());
        var fleet = new Fleet("t", Models, [SiteWith()], pools);
        var domains = Enumerable.Range(0, fleet.DomainCount)
            .Select(d => string.Join(",", Enumerable.Range(fleet.DomainFirstNode(d), fleet.DomainNodeCount(d)).Select(fleet.NodeName))).ToList();
        Assert.Equal(["gb-09", "gb-10", "gb-01,gb-02,gb-04,gb-05", "gb-06,gb-07,gb-08"], domains);
        Assert.Equal(16, fleet.PoolMaxDomainGpus(0));
        Assert.Equal(fleet.NodeDomain(fleet.NodeIndex("gb-01")), fleet.NodeDomain(fleet.NodeIndex("gb-05")));
    }

    [Fact]
    public void Spare_nodes_fill_the_gaps_of_a_group_of_names_then_follow_its_last_as_in_the_worked_example()
    {
        ClusterNode[] nodes = [.. Enumerable.Range(1, 4).Select(i => new ClusterNode($"n{i:D2}", 8, "h100")), new("n05", 4, "h100"), new("n07", 8, "h100"), new("n08", 8, "h100")];
        var pools = ClusterPools.Of(SiteWith(("spareNodes", "3")), Models, nodes, "f");
        // n06 as n05 (H100 × 4), n09 and n10 as n08 (H100 × 8).
        Assert.Equal([("H100", 8, 4, "n{01}"), ("H100", 8, 4, "n{07}"), ("H100", 4, 2, "n{05}")],
            pools.Select(p => (p.Model, p.GpusPerNode, p.Domains, p.NodeNames!)).ToList());
        var fleet = new Fleet("t", Models, [SiteWith()], pools);
        Assert.Equal(10, fleet.NodeCount);
        Assert.Equal(8 * 8 + 2 * 4, fleet.TotalGpus);
        // Without spares, the fleet is what the cluster lists.
        Assert.Equal(7, new Fleet("t", Models, [SiteWith()], ClusterPools.Of(SiteWith(), Models, nodes, "f")).NodeCount);
    }

    [Fact]
    public void A_spare_in_a_gap_inside_a_clique_is_in_its_domain_and_a_spare_never_takes_a_listed_name()
    {
        // Rack .1 is gb-01..gb-04 without gb-03; a node of another shape is gb-06 (so gb-05 and gb-07 are the spares after gb-04).
        ClusterNode[] nodes = [new("gb-01", 4, "B200", "u.1"), new("gb-02", 4, "B200", "u.1"), new("gb-04", 4, "B200", "u.1"), new("gb-06", 8, "B200")];
        var fleet = new Fleet("t", Models, [SiteWith()], ClusterPools.Of(SiteWith(("spareNodes", "3")), Models, nodes, "f"));
        var domainOf = Enumerable.Range(0, fleet.NodeCount).ToDictionary(fleet.NodeName, n => fleet.NodeDomain(n));
        Assert.Equal(["gb-01", "gb-02", "gb-03", "gb-04", "gb-05", "gb-06", "gb-07"], domainOf.Keys.Order());
        Assert.Equal(domainOf["gb-01"], domainOf["gb-03"]);
        Assert.Equal(4, fleet.DomainNodeCount(domainOf["gb-01"]));
        Assert.NotEqual(domainOf["gb-04"], domainOf["gb-05"]);
        Assert.Equal((4, 8, 8), (fleet.NodeGpus(fleet.NodeIndex("gb-03")), fleet.NodeGpus(fleet.NodeIndex("gb-06")), fleet.NodeGpus(fleet.NodeIndex("gb-07"))));
    }

    [Fact]
    public void Specifications_of_one_named_domain_are_listed_together_and_have_one_domain()
    {
        var site = SiteWith();
        GpuPoolSpec Part(string names, string domain, int nodes = 1, int domains = 1) =>
            new("hpc", "B200", 4, nodes, domains, 0) { NodeNames = names, NvlinkDomain = domain };
        var apart = Assert.Throws<FleetValidationException>(() => new Fleet("t", Models, [site], [Part("a-{1}", "x"), Part("b-{1}", "y"), Part("c-{1}", "x")]));
        Assert.Equal("pools[2].nvlinkDomain", apart.Field);
        Assert.Contains("must be listed one after another", apart.Message);
        var many = Assert.Throws<FleetValidationException>(() => new Fleet("t", Models, [site], [Part("a-{1}", "x", domains: 2)]));
        Assert.Equal("pools[0].domains", many.Field);
        // The same name at another model is another pool's domain.
        var fleet = new Fleet("t", Models, [site], [Part("a-{1}", "x", nodes: 2), Part("b-{1}", "x"), new GpuPoolSpec("hpc", "H100", 8, 1, 1, 0) { NodeNames = "c-{1}", NvlinkDomain = "x" }]);
        Assert.Equal([3, 1], Enumerable.Range(0, fleet.DomainCount).Select(fleet.DomainNodeCount));
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
