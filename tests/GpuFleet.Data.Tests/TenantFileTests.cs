using GpuFleet.Core.Fleets;
using GpuFleet.Data;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;

namespace GpuFleet.Data.Tests;

[Trait("Category", "Unit")]
public sealed class TenantFileTests
{
    private const string GoodTree = """
        name: t
        tenants:
          - name: owner
            children:
              - name: project
                guarantee: { G: 8 }
                grants:
                  - { name: g1, gpuHours: 100, start: 0d, end: 30d }
              - { name: other, guarantee: { G: 8 }, borrowLimitGpus: 4 }
        """;

    private static readonly Fleet Fleet = FleetFile.Parse(new StringReader("""
        name: f
        models:
          - { name: G, memoryGb: 80, busyWatts: 700, idleWatts: 100, relativeSpeed: 1 }
        sites:
          - { name: s, owner: o, powerCapMw: 1 }
        pools:
          - { site: s, model: G, gpusPerNode: 8, domains: 2 }
        """), "f.yaml");

    [Fact]
    public void Shipped_tenant_trees_load_against_their_fleets()
    {
        var philly = TenantFile.Load(TestFiles.Tenants("philly-vcs.yaml"), FleetFile.Load(TestFiles.Fleet("philly-contended.yaml")));
        // Guarantees add up to the fleet: 648 for the listed VCs, 8 for the rest.
        Assert.Equal(656, philly.Leaves.Sum(t => t.Guarantee.Values.Sum()));
        var korea = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
        var tree = TenantFile.Load(TestFiles.Tenants("korea-2030.yaml"), korea);
        foreach (var (model, gpus) in korea.GpusByModel())
            Assert.Equal(gpus, tree.Leaves.Sum(t => t.Guarantee.GetValueOrDefault(model)));
        Assert.Equal(5, tree.Tenants.Count(t => t.Parent is null));
        Assert.Contains(tree.Leaves, t => t.Grants is { Count: > 0 });
    }

    [Fact]
    public void A_good_tree_reads_durations_grants_and_limits()
    {
        var tree = TenantFile.Parse(new StringReader(GoodTree), "t.yaml", Fleet);
        var project = tree.Tenants.Single(t => t.Name == "project");
        Assert.Equal("owner", project.Parent);
        Assert.Equal(30 * 86_400, project.Grants![0].EndTime);
        Assert.Equal(4, tree.Tenants.Single(t => t.Name == "other").BorrowLimitGpus);
        Assert.Equal(["project", "other"], tree.Leaves.Select(t => t.Name));
    }

    [Fact]
    public void An_owner_of_a_site_may_reclaim_guests_there()
    {
        var tree = TenantFile.Parse(new StringReader(GoodTree.Replace("  - name: owner\n", "  - name: o\n    reclaimsGuests: true\n")), "t.yaml", Fleet);
        Assert.True(tree.Tenants.Single(t => t.Name == "o").ReclaimsGuests);
        Assert.False(TenantFile.Parse(new StringReader(GoodTree), "t.yaml", Fleet).Tenants.Single(t => t.Name == "owner").ReclaimsGuests);
    }

    [Fact]
    public void Grant_periods_may_be_dates_for_the_live_service()
    {
        var tree = TenantFile.Parse(new StringReader(GoodTree.Replace("start: 0d, end: 30d", "start: 2027-01-01, end: 2027-02-01T00:00:00Z")), "t.yaml", Fleet);
        var grant = tree.Tenants.Single(t => t.Name == "project").Grants![0];
        Assert.Equal(DateTimeOffset.Parse("2027-01-01T00:00:00Z").ToUnixTimeSeconds(), grant.StartTime);
        Assert.Equal(31 * 86_400, grant.EndTime - grant.StartTime);
    }

    [Theory]
    [InlineData("guarantee: { G: 8 }\n", "guarantee: { H100: 8 }\n", 6, "tenants[0].children[0].guarantee", "unknown GPU model 'H100'")]
    [InlineData("end: 30d", "end: soon", 8, "tenants[0].children[0].grants[0].end", "must be a duration")]
    [InlineData("borrowLimitGpus: 4", "borrowLimitGpus: -4", 9, "tenants[0].children[1].borrowLimitGpus", "at least 0")]
    [InlineData("borrowLimitGpus: 4", "borowLimitGpus: 4", 9, "tenants[0].children[1].borowLimitGpus", "unknown field")]
    [InlineData("name: other", "name: project", 5, "tenants.project", "used twice")]
    [InlineData("borrowLimitGpus: 4 }", "borrowLimitGpus: 4, lendsToOtherOwners: false }", 9, "tenants[0].children[1].lendsToOtherOwners", "owners (top-level tenants) only")]
    [InlineData("start: 0d, end: 30d", "start: 30d, end: 1d", 8, "tenants[0].children[0].grants[0].end", "after its start")]
    [InlineData("borrowLimitGpus: 4 }", "borrowLimitGpus: 4, reclaimsGuests: true }", 9, "tenants[0].children[1].reclaimsGuests", "owners (top-level tenants) only")]
    [InlineData("  - name: owner\n", "  - name: owner\n    reclaimsGuests: true\n", 4, "tenants[0].reclaimsGuests", "'owner' owns no site of the fleet")]
    public void Bad_tenant_files_name_file_line_and_field(string from, string to, int line, string field, string problem)
    {
        var e = Assert.Throws<DataFileException>(() => TenantFile.Parse(new StringReader(GoodTree.Replace(from, to)), "bad.yaml", Fleet));
        Assert.Equal("bad.yaml", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
        Assert.Equal(line, e.Line);
    }
}
