using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace GpuFleet.Data.Yaml;

/// <summary>
/// Reads one YAML mapping with errors that name file, line and field path. Every key must be read
/// (or be known): <see cref="RejectUnknown"/> turns a typo such as <c>powerCapMW</c> into an error
/// instead of a silently missing value.
/// </summary>
internal sealed class YamlMap
{
    private readonly string _file;
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _read = [];

    public YamlMap(string file, YamlNode node, string path)
    {
        _file = file;
        Path = path;
        _node = node as YamlMappingNode ?? throw Error(node, path, "expected a mapping (key: value lines)");
    }

    public string Path { get; }

    public string Text(string key, string? fallback = null)
    {
        var node = Find(key);
        if (node is null) return fallback ?? throw Missing(key);
        if (node is not YamlScalarNode { Value: { } v } || string.IsNullOrWhiteSpace(v)) throw Error(node, Field(key), "must be a non-empty text");
        return v;
    }

    public double Number(string key, double? fallback = null, double min = double.MinValue, double max = double.MaxValue, bool exclusiveMin = false)
    {
        var node = Find(key);
        if (node is null) return fallback ?? throw Missing(key);
        if (node is not YamlScalarNode { Value: { } v } || !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
            throw Error(node, Field(key), $"must be a number, not '{(node as YamlScalarNode)?.Value}'");
        if (d < min || (exclusiveMin && d <= min)) throw Error(node, Field(key), $"must be {(exclusiveMin ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, not {v}");
        if (d > max) throw Error(node, Field(key), $"must be at most {max.ToString(CultureInfo.InvariantCulture)}, not {v}");
        return d;
    }

    public int Integer(string key, int? fallback = null, int min = int.MinValue, int max = int.MaxValue)
    {
        var node = Find(key);
        if (node is null) return fallback ?? throw Missing(key);
        if (node is not YamlScalarNode { Value: { } v } || !int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
            throw Error(node, Field(key), $"must be a whole number, not '{(node as YamlScalarNode)?.Value}'");
        if (i < min) throw Error(node, Field(key), $"must be at least {min}, not {i}");
        if (i > max) throw Error(node, Field(key), $"must be at most {max}, not {i}");
        return i;
    }

    public IEnumerable<YamlMap> List(string key, bool required = true)
    {
        var node = Find(key);
        if (node is null)
        {
            if (required) throw Missing(key);
            yield break;
        }
        if (node is not YamlSequenceNode seq) throw Error(node, Field(key), "must be a list");
        var i = 0;
        foreach (var item in seq) yield return new YamlMap(_file, item, $"{Field(key)}[{i++}]");
    }

    public long LineOf(string key) => (Find(key) ?? _node).Start.Line;

    public void RejectUnknown()
    {
        foreach (var (k, _) in _node.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (!_read.Contains(name)) throw Error(k, Field(name), $"unknown field (known: {string.Join(", ", _read.Order(StringComparer.Ordinal))})");
        }
    }

    /// <summary>Marks keys as known without reading them (documentation-only fields).</summary>
    public void Allow(params string[] keys)
    {
        foreach (var k in keys) _read.Add(k);
    }

    public DataFileException Error(string key, string problem) => Error(Find(key) ?? _node, Field(key), problem);

    private DataFileException Missing(string key)
    {
        // A key spelled with other capitals is almost always a typo of this one: say so.
        var near = _node.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => string.Equals(k.Value, key, StringComparison.OrdinalIgnoreCase));
        return near is null
            ? Error(_node, Field(key), "is required")
            : Error(near, Field(key), $"is required (found '{near.Value}': check its spelling)");
    }

    private YamlNode? Find(string key)
    {
        _read.Add(key);
        return _node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
    }

    private string Field(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private DataFileException Error(YamlNode node, string field, string problem) => new(_file, node.Start.Line, field, problem);
}
