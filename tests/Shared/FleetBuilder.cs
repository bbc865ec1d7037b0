using GpuFleet.Core.Fleets;

namespace GpuFleet.Tests.Shared;

/// <summary>
/// A fleet for tests, fluently: <c>FleetBuilder.Pool(gpusPerNode: 8, domains: 2).Build()</c>, or several
/// pools with <c>.AndPool(...)</c>. Models draw 700 W busy and 100 W idle; sites not described have a
/// cap of 10 MW (never binding in a test) and a PUE of 1.2; every site belongs to owner "o" in region "r".
/// </summary>
internal sealed class FleetBuilder
{
    private readonly List<GpuPoolSpec> _pools = [];
    private readonly Dictionary<string, (double PowerCapMw, double Pue)> _sites = [];
    private string _name = "f";

    private FleetBuilder() { }

    /// <summary>A fleet with one pool of model <paramref name="model"/> at site <paramref name="site"/>.</summary>
    public static FleetBuilder Pool(int gpusPerNode = 8, int nodesPerDomain = 1, int domains = 1, string model = "G", string site = "s") =>
        new FleetBuilder().AndPool(gpusPerNode, nodesPerDomain, domains, model, site);

    /// <summary>Adds a pool.</summary>
    public FleetBuilder AndPool(int gpusPerNode = 8, int nodesPerDomain = 1, int domains = 1, string model = "G", string site = "s")
    {
        _pools.Add(new GpuPoolSpec(site, model, gpusPerNode, nodesPerDomain, domains, 0));
        return this;
    }

    /// <summary>Sets a site's power cap and PUE.</summary>
    public FleetBuilder Site(string name, double powerCapMw, double pue = 1.2)
    {
        _sites[name] = (powerCapMw, pue);
        return this;
    }

    public FleetBuilder Named(string name)
    {
        _name = name;
        return this;
    }

    public Fleet Build()
    {
        var models = _pools.Select(p => p.Model).Distinct().Select(m => new GpuModel(m, 80, 700, 100, 1)).ToList();
        var sites = _pools.Select(p => p.Site).Distinct()
            .Select(s => _sites.TryGetValue(s, out var d) ? new Site(s, "o", "r", d.PowerCapMw, d.Pue) : new Site(s, "o", "r", 10, 1.2)).ToList();
        return new Fleet(_name, models, sites, _pools);
    }
}
