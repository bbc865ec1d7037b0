using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Server.Api;
using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Tests;

[Trait("Category", "Unit")]
public sealed class PlacementTextTests
{
    // Pool specs of one site and model with two name patterns: a placement may span both.
    private static readonly Fleet TwoRacks = new("f", [new GpuModel("P100", 16, 250, 30, 0.15)], [new Site("philly", "o", "us", 10, 1.5)],
        [new GpuPoolSpec("philly", "P100", 8, 1, 100, 0) { NodeNames = "philly-a-{0001}" }, new GpuPoolSpec("philly", "P100", 8, 1, 10, 0) { NodeNames = "philly-b-{01}" }]);

    private static GpuAllocation Whole(int node) => new(node, 0xFF);

    [Fact]
    public void Whole_nodes_print_as_one_host_list_not_as_numbers()
    {
        var text = PlacementText.Nodes([.. Enumerable.Range(0, 72).Select(Whole), Whole(80), Whole(100), Whole(101)], TwoRacks);
        Assert.Equal("philly-a-[0001-0072,0081],philly-b-[01-02]", text);
    }

    [Fact]
    public void Nodes_held_in_part_say_which_GPUs()
    {
        var text = PlacementText.Nodes([Whole(3), Whole(4), new(11, 0x0F), new(12, 0x0F), new(20, 0b1011_0000), new(105, 0x0F), new(7, 0x20)], TwoRacks);
        Assert.Equal("philly-a-[0004-0005],philly-a-[0012-0013] (GPUs 0-3),philly-b-06 (GPUs 0-3),philly-a-0021 (GPUs 4-5,7),philly-a-0008 (GPU 5)", text);
    }

    [Fact]
    public void Parse_reads_back_every_node_and_GPU_of_a_placement()
    {
        var gpus = new List<GpuAllocation> { Whole(3), Whole(4), new(11, 0x0F), new(12, 0x0F), new(20, 0b1011_0000), new(105, 0x0F), Whole(109) };
        var nodes = PlacementText.Parse($"philly/P100{PlacementText.NodesMarker}{PlacementText.Nodes(gpus, TwoRacks)}", TwoRacks)!;
        var expected = gpus.Select(g => (TwoRacks.NodeName(g.Node), Enumerable.Range(0, 8).Where(b => (g.Mask >> b & 1) != 0).ToArray()))
            .OrderBy(n => n.Item1, StringComparer.Ordinal);
        Assert.Equal(expected.Select(e => $"{e.Item1}:{string.Join(',', e.Item2)}"),
            nodes.Select(n => $"{n.Name}:{string.Join(',', n.Gpus)}").Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("philly/P100: nodes 12[0-3],13[0-7]")]
    [InlineData("philly/P100: nodes philly-a-0999")]
    [InlineData("philly/P100: nodes philly-a-0001 (GPUs 0-8)")]
    [InlineData("philly/P100: nodes philly-a-[0001")]
    public void Parse_gives_nothing_for_text_that_names_no_node_of_the_fleet(string? text) =>
        Assert.Null(PlacementText.Parse(text, TwoRacks));

    [Fact]
    public void Node_views_carry_name_and_GPUs() =>
        Assert.Equal([new NodeView("philly-b-01", [0, 1, 2, 3, 4, 5, 6, 7])], PlacementText.Parse("philly-b-01", TwoRacks)!, new NodeViewComparer());

    private sealed class NodeViewComparer : IEqualityComparer<NodeView>
    {
        public bool Equals(NodeView? x, NodeView? y) => x is not null && y is not null && x.Name == y.Name && x.Gpus.SequenceEqual(y.Gpus);
        public int GetHashCode(NodeView obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
