using GpuFleet.Data;
using GpuFleet.Server.Twin;
using GpuFleet.Tests.Shared;

namespace GpuFleet.Server.Tests;

/// <summary>The twin's catalogue of fleets: a problem is told as the user knows the file, not by the server's path.</summary>
[Trait("Category", "Unit")]
public sealed class TwinCatalogTests
{
    [Fact]
    public void A_mistake_in_a_fleet_that_another_extends_is_told_in_the_file_that_has_it()
    {
        var dir = TestFiles.Temp($"twin-catalog-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "fleets"));
        File.WriteAllText(Path.Combine(dir, "fleets", "base.yaml"), """
            name: b
            models:
              - { name: G, memoryGb: 80, busyWatts: 700, idleWatts: 100, relativeSpeed: 1 }
            sites:
              - { name: s, owner: o, powerCapMw: 1, powerCapMW: 2 }
            pools:
              - { site: s, model: G, gpusPerNode: 8, domains: 1 }
            """);
        File.WriteAllText(Path.Combine(dir, "fleets", "variant.yaml"), "extends: base.yaml\nname: v\n");
        var catalog = new TwinCatalog(new TwinSettings { Directory = dir });
        var e = Assert.Throws<DataFileException>(() => catalog.Fleet("variant"));
        Assert.Equal(("fleets/base.yaml", 5L, "sites[0].powerCapMW"), (e.File, e.Line, e.Field));
        Assert.DoesNotContain(dir, e.Message);
    }
}
