using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Tests;

[Trait("Category", "Unit")]
public sealed class HostListTests
{
    [Theory]
    [InlineData(new[] { "a-01", "a-02", "a-03", "a-04", "a-07", "b-03" }, "a-[01-04,07],b-03")]
    [InlineData(new[] { "sejong-gb200-0001", "sejong-gb200-0002", "sejong-gb200-0072" }, "sejong-gb200-[0001-0002,0072]")]
    [InlineData(new[] { "n-0998", "n-0999", "n-1000", "n-1001" }, "n-[0998-1001]")]
    [InlineData(new[] { "n9", "n10", "n11" }, "n[9-11]")]
    [InlineData(new[] { "n09", "n10" }, "n[09-10]")]
    [InlineData(new[] { "n-1", "n-01", "n-2" }, "n-[01,1-2]")]
    [InlineData(new[] { "x-5" }, "x-5")]
    [InlineData(new[] { "x-5", "x-5", "x-6" }, "x-[5-6]")]
    [InlineData(new[] { "login", "c-3", "c-1", "c-2" }, "login,c-[1-3]")]
    public void Compress_writes_ranges_per_prefix_keeping_zero_padding(string[] names, string expected) =>
        Assert.Equal(expected, HostList.Compress(names));

    [Theory]
    [InlineData("a-[01-04,07],b-03", new[] { "a-01", "a-02", "a-03", "a-04", "a-07", "b-03" })]
    [InlineData("n-[0998-1001]", new[] { "n-0998", "n-0999", "n-1000", "n-1001" })]
    [InlineData("n[9-11]", new[] { "n9", "n10", "n11" })]
    [InlineData("rack[1-2]-top", new[] { "rack1-top", "rack2-top" })]
    [InlineData("login", new[] { "login" })]
    public void Expand_gives_every_name(string hostList, string[] expected) =>
        Assert.Equal(expected, HostList.Expand(hostList));

    [Theory]
    [InlineData("a-[01-04")]
    [InlineData("a-[04-01]")]
    [InlineData("a-[x]")]
    [InlineData("a-[1-2][3-4]")]
    [InlineData("a,,b")]
    [InlineData("a-[1-2000000000]")]
    public void Expand_refuses_what_is_not_a_host_list(string text) =>
        Assert.Throws<FormatException>(() => HostList.Expand(text));

    [Fact]
    public void Compress_then_expand_gives_the_names_back()
    {
        var rng = new Random(7);
        for (var trial = 0; trial < 200; trial++)
        {
            // Several prefixes, padded and unpadded counters, gaps and repeats; sorted per prefix, the way Compress writes them.
            var prefixes = new[] { "a-", "b-gb200-", "philly-p100-", "n" };
            var names = Enumerable.Range(0, rng.Next(1, 60))
                .Select(_ => (Prefix: prefixes[rng.Next(prefixes.Length)], Number: rng.Next(0, 120), Width: rng.Next(2) == 0 ? 1 : 4))
                .Select(n => n.Prefix + NodeNamePattern.Number(n.Number, n.Width))
                .Distinct().ToList();
            var expanded = HostList.Expand(HostList.Compress(names));
            Assert.Equal(names.Order(StringComparer.Ordinal), expanded.Order(StringComparer.Ordinal));
            Assert.Equal(expanded.Count, expanded.Distinct().Count());
        }
    }

    [Fact]
    public void A_whole_pool_of_thousands_of_nodes_is_one_short_element()
    {
        var names = Enumerable.Range(1, 18_000).Select(n => NodeNamePattern.Number(n, 4)).Select(n => "national-sejong-gb200-" + n).ToList();
        Assert.Equal("national-sejong-gb200-[0001-18000]", HostList.Compress(names));
        Assert.Equal(names, HostList.Expand("national-sejong-gb200-[0001-18000]"));
    }
}
