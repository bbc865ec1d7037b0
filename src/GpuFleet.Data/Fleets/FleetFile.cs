using GpuFleet.Core.Fleets;
using GpuFleet.Data.Yaml;

namespace GpuFleet.Data.Fleets;

/// <summary>
/// Loads a fleet from YAML (<c>fleets/*.yaml</c>; the format is described in <c>docs/fleet-format.md</c>).
/// Every error names the file, the line and the field.
/// </summary>
public static class FleetFile
{
    /// <summary>Reads and validates a fleet file.</summary>
    /// <exception cref="DataFileException">The file is missing, is not valid YAML, or has a bad field.</exception>
    public static Fleet Load(string path)
    {
        if (!File.Exists(path)) throw new DataFileException(path, 0, "file", "not found");
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses fleet YAML; <paramref name="file"/> is used in error messages.</summary>
    public static Fleet Parse(TextReader text, string file)
    {
        var root = YamlMap.Document(text, file);
        var name = root.Text("name");
        root.Allow("description");

        var models = Items(root, "models", "name", m =>
        {
            var model = new GpuModel(
                m.Text("name"),
                m.Number("memoryGb", min: 0, exclusiveMin: true),
                m.Number("busyWatts", min: 0, exclusiveMin: true),
                m.Number("idleWatts", min: 0),
                m.Number("relativeSpeed", min: 0, exclusiveMin: true));
            if (model.IdleWatts > model.BusyWatts) throw m.Error("idleWatts", "must not exceed busyWatts");
            return model;
        });
        var sites = Items(root, "sites", "name", s => new Site(
            s.Text("name"),
            s.Text("owner"),
            s.Text("region", "unspecified"),
            s.Number("powerCapMw", min: 0, exclusiveMin: true),
            s.Number("pue", 1.0, min: 1.0, max: 3.0))
        {
            PricePerMwh = s.Number("pricePerMwh", 0, min: 0),
        });
        var pools = Items(root, "pools", "site", p => new GpuPoolSpec(
            p.Text("site"),
            p.Text("model"),
            p.Integer("gpusPerNode", min: 1, max: Fleet.MaxGpusPerNode),
            p.Integer("nodesPerDomain", 1, min: 1, max: 1_000),
            p.Integer("domains", min: 1, max: 1_000_000),
            p.Number("nodeOverheadWatts", 0, min: 0)));
        var links = Items(root, "links", "from", l => new SiteLink(l.Text("from"), l.Text("to"), l.Number("gbps", min: 0, exclusiveMin: true)), required: false);
        root.RejectUnknown();

        try
        {
            return new Fleet(name, [.. models.Select(m => m.Item)], [.. sites.Select(s => s.Item)], [.. pools.Select(p => p.Item)], [.. links.Select(l => l.Item)]);
        }
        catch (FleetValidationException e)
        {
            // Point at the line of the list item the core complained about.
            var line = LineFor(e.Field, models.Select(m => (m.Path, m.Line)), sites.Select(s => (s.Path, s.Line)), pools.Select(p => (p.Path, p.Line)), links.Select(l => (l.Path, l.Line)));
            var problem = e.Message[(e.Field.Length + 2)..];
            throw new DataFileException(file, line, e.Field, problem);
        }
    }

    /// <summary>
    /// Reads every item of a list the same way: its own fields, an optional <c>notes</c> text, no
    /// unknown keys; keeps the item's path and line for errors the core raises later.
    /// </summary>
    private static List<(T Item, long Line, string Path)> Items<T>(YamlMap root, string key, string lineKey, Func<YamlMap, T> read, bool required = true) =>
        [.. root.List(key, required).Select(m =>
        {
            var item = read(m);
            m.Allow("notes");
            m.RejectUnknown();
            return (item, m.LineOf(lineKey), m.Path);
        })];

    private static long LineFor(string field, params IEnumerable<(string Path, long Line)>[] lists)
    {
        foreach (var list in lists)
            foreach (var (path, line) in list)
                if (field.StartsWith(path, StringComparison.Ordinal)) return line;
        return 0;
    }
}
