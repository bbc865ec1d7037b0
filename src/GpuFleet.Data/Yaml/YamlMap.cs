using System.Globalization;
using YamlDotNet.Core;
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

    /// <summary>The file it was read from.</summary>
    public string File => _file;

    /// <summary>The root mapping of a YAML document; syntax errors and an empty file name the file and line.</summary>
    public static YamlMap Document(TextReader text, string file)
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
        return new YamlMap(file, stream.Documents[0].RootNode, "");
    }

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

    /// <summary>A list of texts (<c>[H100, H200]</c>), or one text as a list of one; empty when absent.</summary>
    public IReadOnlyList<string> TextList(string key)
    {
        var node = Find(key);
        if (node is null) return [];
        if (node is YamlScalarNode) return [Text(key)];
        if (node is not YamlSequenceNode seq) throw Error(node, Field(key), "must be a list of texts");
        var texts = new List<string>();
        foreach (var item in seq)
        {
            if (item is not YamlScalarNode { Value: { } v } || string.IsNullOrWhiteSpace(v)) throw Error(item, $"{Field(key)}[{texts.Count}]", "must be a non-empty text");
            texts.Add(v);
        }
        return texts;
    }

    /// <summary>Whether the key is present (it counts as known).</summary>
    public bool Has(string key) => Find(key) is not null;

    /// <summary>An optional whole number; null when absent.</summary>
    public int? OptionalInteger(string key, int min = int.MinValue, int max = int.MaxValue) =>
        Find(key) is null ? null : Integer(key, min: min, max: max);

    /// <summary>An optional number; null when absent.</summary>
    public double? OptionalNumber(string key, double min = double.MinValue, bool exclusiveMin = false) =>
        Find(key) is null ? null : Number(key, min: min, exclusiveMin: exclusiveMin);

    public bool Bool(string key, bool fallback)
    {
        var node = Find(key);
        if (node is null) return fallback;
        if (node is YamlScalarNode { Value: { } v } && bool.TryParse(v, out var b)) return b;
        throw Error(node, Field(key), $"must be true or false, not '{(node as YamlScalarNode)?.Value}'");
    }

    /// <summary>
    /// A duration in seconds: a whole number of seconds, or a number with a unit — <c>90s</c>,
    /// <c>30m</c>, <c>12h</c>, <c>7d</c>.
    /// </summary>
    public long Seconds(string key, long? fallback = null, long min = 0)
    {
        var node = Find(key);
        if (node is null) return fallback ?? throw Missing(key);
        var text = (node as YamlScalarNode)?.Value?.Trim() ?? "";
        if (!Duration.TryParseSeconds(text, out var seconds))
            throw Error(node, Field(key), $"must be a duration such as 3600, 90s, 30m, 12h or 7d, not '{text}'");
        if (seconds < min) throw Error(node, Field(key), $"must be at least {min} s, not '{text}'");
        return seconds;
    }

    /// <summary>
    /// A point in time in seconds: a duration from time zero (<c>30d</c>, as in the twin, where time
    /// zero is the trace's start) or a date (<c>2027-01-01</c>, <c>2027-01-01T09:00:00Z</c>: seconds since
    /// the Unix epoch, as in the live service).
    /// </summary>
    public long Time(string key, long? fallback = null)
    {
        var node = Find(key);
        if (node is YamlScalarNode { Value: { } v } && v.Contains('-') && !v.StartsWith('-')
            && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            return date.ToUnixTimeSeconds();
        return Seconds(key, fallback);
    }

    /// <summary>A mapping of names to whole numbers (e.g. GPUs per model); empty when absent.</summary>
    public IReadOnlyDictionary<string, int> IntegerMap(string key, int min = 0) =>
        Map(key).ToDictionary(k => k, k => Sub(key).Integer(k, min: min), StringComparer.Ordinal);

    /// <summary>A mapping of names to numbers; empty when absent.</summary>
    public IReadOnlyDictionary<string, double> NumberMap(string key, double min = 0, bool exclusiveMin = false) =>
        Map(key).ToDictionary(k => k, k => Sub(key).Number(k, min: min, exclusiveMin: exclusiveMin), StringComparer.Ordinal);

    private IEnumerable<string> Map(string key)
    {
        var node = Find(key);
        if (node is null) return [];
        if (node is not YamlMappingNode map) throw Error(node, Field(key), "must be a mapping (name: value)");
        return [.. map.Children.Keys.Select(k => (k as YamlScalarNode)?.Value ?? "")];
    }

    private YamlMap Sub(string key) => new(_file, Find(key)!, Field(key));

    /// <summary>A nested mapping read field by field as this one is; null when absent.</summary>
    public YamlMap? Mapping(string key)
    {
        var node = Find(key);
        if (node is null) return null;
        if (node is not YamlMappingNode) throw Error(node, Field(key), "must be a mapping (name: value)");
        _read.Add(key);
        return Sub(key);
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

    /// <summary>A list of whole numbers (<c>[0, 2, 4]</c> or one per line); each entry's error names it (<c>placements[2]</c>).</summary>
    public IReadOnlyList<int> IntegerList(string key, int min = int.MinValue, int max = int.MaxValue)
    {
        var node = Find(key) ?? throw Missing(key);
        if (node is not YamlSequenceNode seq) throw Error(node, Field(key), "must be a list of whole numbers, e.g. [0, 2, 4]");
        var list = new List<int>();
        foreach (var item in seq)
        {
            var at = $"{Field(key)}[{list.Count}]";
            if (item is not YamlScalarNode { Value: { } v } || !int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
                throw Error(item, at, $"must be a whole number, not '{(item as YamlScalarNode)?.Value}'");
            if (i < min) throw Error(item, at, $"must be at least {min}, not {i}");
            if (i > max) throw Error(item, at, $"must be at most {max}, not {i}");
            list.Add(i);
        }
        return list;
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
