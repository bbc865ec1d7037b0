using GpuFleet.Core.Fleets;
using GpuFleet.Data.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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
        var stream = new YamlStream();
        try
        {
            stream.Load(text);
        }
        catch (YamlException e)
        {
            throw new DataFileException(file, e.Start.Line, "yaml", e.InnerException?.Message ?? e.Message);
        }
        if (stream.Documents.Count == 0) throw new DataFileException(file, 0, "file", "is empty");
        var root = new YamlMap(file, stream.Documents[0].RootNode, "");
        var name = root.Text("name");
        root.Allow("description");

        var models = root.List("models").Select(m =>
        {
            var model = new GpuModel(
                m.Text("name"),
                m.Number("memoryGb", min: 0, exclusiveMin: true),
                m.Number("busyWatts", min: 0, exclusiveMin: true),
                m.Number("idleWatts", min: 0),
                m.Number("relativeSpeed", min: 0, exclusiveMin: true));
            if (model.IdleWatts > model.BusyWatts) throw m.Error("idleWatts", "must not exceed busyWatts");
            m.Allow("notes");
            m.RejectUnknown();
            return (model, line: m.LineOf("name"), path: m.Path);
        }).ToList();

        var sites = root.List("sites").Select(s =>
        {
            var site = new Site(
                s.Text("name"),
                s.Text("owner"),
                s.Text("region", "unspecified"),
                s.Number("powerCapMw", min: 0, exclusiveMin: true),
                s.Number("pue", 1.0, min: 1.0, max: 3.0));
            s.Allow("notes");
            s.RejectUnknown();
            return (site, line: s.LineOf("name"), path: s.Path);
        }).ToList();

        var pools = root.List("pools").Select(p =>
        {
            var pool = new GpuPoolSpec(
                p.Text("site"),
                p.Text("model"),
                p.Integer("gpusPerNode", min: 1, max: Fleet.MaxGpusPerNode),
                p.Integer("nodesPerDomain", 1, min: 1, max: 1_000),
                p.Integer("domains", min: 1, max: 1_000_000),
                p.Number("nodeOverheadWatts", 0, min: 0));
            p.Allow("notes");
            p.RejectUnknown();
            return (pool, line: p.LineOf("site"), path: p.Path);
        }).ToList();

        var links = root.List("links", required: false).Select(l =>
        {
            var link = new SiteLink(l.Text("from"), l.Text("to"), l.Number("gbps", min: 0, exclusiveMin: true));
            l.Allow("notes");
            l.RejectUnknown();
            return (link, line: l.LineOf("from"), path: l.Path);
        }).ToList();
        root.RejectUnknown();

        try
        {
            return new Fleet(name, [.. models.Select(m => m.model)], [.. sites.Select(s => s.site)], [.. pools.Select(p => p.pool)], [.. links.Select(l => l.link)]);
        }
        catch (FleetValidationException e)
        {
            // Point at the line of the list item the core complained about.
            var line = LineFor(e.Field, models.Select(m => (m.path, m.line)), sites.Select(s => (s.path, s.line)), pools.Select(p => (p.path, p.line)), links.Select(l => (l.path, l.line)));
            var problem = e.Message[(e.Field.Length + 2)..];
            throw new DataFileException(file, line, e.Field, problem);
        }
    }

    private static long LineFor(string field, params IEnumerable<(string Path, long Line)>[] lists)
    {
        foreach (var list in lists)
            foreach (var (path, line) in list)
                if (field.StartsWith(path, StringComparison.Ordinal)) return line;
        return 0;
    }
}
