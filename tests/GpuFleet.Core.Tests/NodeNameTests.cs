using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Tests;

[Trait("Category", "Unit")]
public sealed class NodeNameTests
{
    private static readonly GpuModel[] Models = [new("GB200", 186, 1200, 150, 2.5), new("B200", 180, 1000, 140, 2.2)];
    private static readonly Site[] Sites = [new("national-sejong", "government", "Sejong", 100, 1.25), new("Philly A", "microsoft", "us", 10, 1.5)];

    private static Fleet FleetOf(params GpuPoolSpec[] pools) => new("f", Models, Sites, pools);

    [Fact]
    public void Nodes_are_named_by_default_after_site_and_model_counting_on_over_specifications()
    {
        var fleet = FleetOf(
            new GpuPoolSpec("national-sejong", "GB200", 4, 18, 2, 0),
            new GpuPoolSpec("Philly A", "B200", 8, 1, 3, 0),
            new GpuPoolSpec("national-sejong", "GB200", 4, 18, 1, 0));
        Assert.Equal("national-sejong-gb200-0001", fleet.NodeName(0));
        Assert.Equal("national-sejong-gb200-0036", fleet.NodeName(35));
        Assert.Equal("philly-a-b200-0001", fleet.NodeName(36));
        Assert.Equal("philly-a-b200-0003", fleet.NodeName(38));
        // The third specification adds to the first one's pool: its names go on from 0037.
        Assert.Equal("national-sejong-gb200-0037", fleet.NodeName(39));
        Assert.Equal("national-sejong-gb200-0054", fleet.NodeName(fleet.NodeCount - 1));
    }

    [Fact]
    public void A_pattern_names_the_nodes_and_every_name_leads_back_to_its_node()
    {
        var fleet = FleetOf(
            new GpuPoolSpec("national-sejong", "GB200", 4, 18, 2, 0) { NodeNames = "sejong-{model}-{0101}" },
            new GpuPoolSpec("Philly A", "B200", 8, 1, 12, 0) { NodeNames = "{site}-{1}" });
        Assert.Equal("sejong-gb200-0101", fleet.NodeName(0));
        Assert.Equal("sejong-gb200-0136", fleet.NodeName(35));
        Assert.Equal("philly-a-1", fleet.NodeName(36));
        Assert.Equal("philly-a-12", fleet.NodeName(47));
        for (var n = 0; n < fleet.NodeCount; n++) Assert.Equal(n, fleet.NodeIndex(fleet.NodeName(n)));
        Assert.Equal(36, fleet.NodeIndex("PHILLY-A-1"));
        Assert.Equal(-1, fleet.NodeIndex("philly-a-01"));
        Assert.Equal(-1, fleet.NodeIndex("philly-a-13"));
        Assert.Equal(-1, fleet.NodeIndex("sejong-gb200-0100"));
        Assert.Equal(-1, fleet.NodeIndex("12"));
    }

    [Theory]
    [InlineData("sejong-{0001}", "sejong-{0001}", "node name 'sejong-0001' is also given by pools[0]")]
    [InlineData("n-{0001}", "n-{0002}", "node name 'n-0002' is also given by pools[0]")]
    [InlineData("n-{1}", "n-{0999}", "node name 'n-1000' is also given by pools[0]")]
    [InlineData("N-{01}", "n-{01}", "node name 'n-01' is also given by pools[0]")]
    [InlineData(null, "national-sejong-gb200-{0001}", "node name 'national-sejong-gb200-0001' is also given by pools[0]")]
    public void Names_given_twice_are_refused_naming_the_later_pool(string? first, string second, string problem)
    {
        var e = Assert.Throws<FleetValidationException>(() => FleetOf(
            new GpuPoolSpec("national-sejong", "GB200", 4, 18, 56, 0) { NodeNames = first },
            new GpuPoolSpec("national-sejong", "GB200", 4, 18, 1, 0) { NodeNames = second }));
        Assert.Equal("pools[1].nodeNames", e.Field);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Padded_and_unpadded_counters_below_the_padding_do_not_collide()
    {
        // n-1..n-999 and n-0001..n-0999 are different names; they would meet only from n-1000 on.
        var fleet = FleetOf(new GpuPoolSpec("national-sejong", "GB200", 4, 1, 999, 0) { NodeNames = "n-{1}" },
            new GpuPoolSpec("national-sejong", "GB200", 4, 1, 999, 0) { NodeNames = "n-{0001}" });
        Assert.Equal(1998, fleet.NodeCount);
    }

    [Theory]
    [InlineData("sejong", "must end with a counter")]
    [InlineData("sejong-{x}", "must be digits")]
    [InlineData("{0001}", "never a bare number")]
    [InlineData("gb200{01}", "must not end in a digit")]
    [InlineData("a b-{01}", "' ' cannot be in a node name")]
    [InlineData("{rack}-{01}", "unknown placeholder '{rack}'")]
    [InlineData("a-{01}-{01}", "one counter only")]
    [InlineData("-a-{01}", "must start with a letter or digit")]
    [InlineData("a-{0000000001}", "at most 9 digits")]
    public void Bad_patterns_say_what_is_wrong(string pattern, string problem)
    {
        var e = Assert.Throws<FleetValidationException>(() => FleetOf(new GpuPoolSpec("national-sejong", "GB200", 4, 18, 1, 0) { NodeNames = pattern }));
        Assert.Equal("pools[0].nodeNames", e.Field);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Names_of_a_32000_node_fleet_cost_no_memory_per_node()
    {
        var fleet = FleetOf(new GpuPoolSpec("national-sejong", "B200", 8, 1, 32_000, 0));
        Assert.Equal("national-sejong-b200-32000", fleet.NodeName(31_999));
        Assert.Equal(31_999, fleet.NodeIndex("national-sejong-b200-32000"));
        Assert.NotSame(fleet.NodeName(5), fleet.NodeName(5));   // built when asked for, not kept
    }
}
