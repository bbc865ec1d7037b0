using System.CommandLine;
using System.Globalization;
using GpuFleet.Core.Fleets;
using GpuFleet.Data.Fleets;
using Spectre.Console;

namespace GpuFleet.Cli.Commands;

/// <summary><c>gpufleet fleet show F</c>: GPUs by site, owner and model, power, and the nodes' names.</summary>
internal static class FleetCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("fleet") { Description = "Fleet YAML file, e.g. fleets/korea-2030.yaml" };
        var show = new Command("show", "Summarise a fleet: GPUs by site, owner and model; peak power; node names.") { file };
        show.SetAction(r => CliRunner.Guard(() => Show(FleetFile.Load(r.GetValue(file)!))));
        return new Command("fleet", "Inspect fleet files.") { show };
    }

    private static int Show(Fleet fleet)
    {
        var busy = new int[fleet.PoolCount];
        for (var p = 0; p < fleet.PoolCount; p++) busy[p] = fleet.PoolGpus(p);
        var idle = new int[fleet.PoolCount];
        var models = fleet.Models.Select(m => m.Name).ToList();
        var table = new Table().Title($"Fleet {Markup.Escape(fleet.Name)}");
        table.AddColumns("site", "owner", "region");
        foreach (var m in models) table.AddColumn(new TableColumn(Markup.Escape(m)).RightAligned());
        table.AddColumn(new TableColumn("GPUs").RightAligned());
        table.AddColumn(new TableColumn("idle MW").RightAligned());
        table.AddColumn(new TableColumn("peak MW").RightAligned());
        table.AddColumn(new TableColumn("cap MW").RightAligned());
        double totalPeak = 0, totalIdle = 0, totalCap = 0;
        for (var s = 0; s < fleet.Sites.Count; s++)
        {
            var site = fleet.Sites[s];
            var cells = new List<string> { site.Name, site.Owner, site.Region };
            foreach (var m in models)
            {
                var count = 0;
                for (var p = 0; p < fleet.PoolCount; p++)
                    if (fleet.PoolSite(p) == s && fleet.Models[fleet.PoolModel(p)].Name == m) count += fleet.PoolGpus(p);
                cells.Add(count == 0 ? "" : N(count));
            }
            var peak = fleet.SitePowerWatts(s, busy) / 1e6;
            var idleMw = fleet.SitePowerWatts(s, idle) / 1e6;
            totalPeak += peak;
            totalIdle += idleMw;
            totalCap += site.PowerCapMw;
            cells.AddRange([N(fleet.SiteGpus(s)), F(idleMw), F(peak), F(site.PowerCapMw)]);
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        var totals = new List<string> { "total", "", "" };
        var byModel = fleet.GpusByModel();
        totals.AddRange(models.Select(m => N(byModel.GetValueOrDefault(m))));
        totals.AddRange([N(fleet.TotalGpus), F(totalIdle), F(totalPeak), F(totalCap)]);
        table.AddRow(totals.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);

        var owners = new Table().Title("By owner");
        owners.AddColumns("owner", "sites", "GPUs", "share");
        foreach (var g in fleet.Sites.Select((s, i) => (s, i)).GroupBy(x => x.s.Owner))
        {
            var gpus = g.Sum(x => fleet.SiteGpus(x.i));
            owners.AddRow(Markup.Escape(g.Key), g.Count().ToString(CultureInfo.InvariantCulture), N(gpus), $"{100.0 * gpus / fleet.TotalGpus:F1}%");
        }
        AnsiConsole.Write(owners);

        // Plain lines, not a table: a host list is copied and pasted, so it must not be wrapped.
        Console.WriteLine("Nodes:");
        for (var i = 0; i < fleet.PoolSpecs.Count; i++)
        {
            var spec = fleet.PoolSpecs[i];
            var count = spec.NodesPerDomain * spec.Domains;
            var first = fleet.SpecFirstNode(i);
            Console.WriteLine($"  {spec.Site}/{spec.Model}: {N(count)} nodes {HostList.Compress(Enumerable.Range(first, count).Select(fleet.NodeName))}");
        }
        AnsiConsole.WriteLine($"{fleet.Sites.Count} sites, {N(fleet.NodeCount)} nodes, {N(fleet.DomainCount)} NVLink domains, {N(fleet.TotalGpus)} GPUs; peak facility power {F(totalPeak)} MW (all GPUs busy) against caps of {F(totalCap)} MW.");
        if (totalPeak > totalCap) AnsiConsole.MarkupLine("[yellow]Some sites would exceed their power cap with every GPU busy.[/]");
        return 0;
    }

    private static string N(int n) => n.ToString("N0", CultureInfo.InvariantCulture);
    private static string F(double d) => d.ToString("F1", CultureInfo.InvariantCulture);
}
