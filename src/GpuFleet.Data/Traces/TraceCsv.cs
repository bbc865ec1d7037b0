using System.Globalization;
using System.IO.Compression;
using GpuFleet.Core.Workloads;
using nietras.SeparatedValues;

namespace GpuFleet.Data.Traces;

/// <summary>Opens CSV traces (plain or <c>.gz</c>) and parses fields with errors that name file, line and column.</summary>
internal static class TraceCsv
{
    public static TextReader Open(string path)
    {
        if (!File.Exists(path)) throw new DataFileException(path, 0, "file", "not found");
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream);
    }

    public static SepReader Reader(TextReader text, string file)
    {
        try
        {
            return Sep.Reader(o => o with { Sep = new Sep(','), Trim = SepTrim.Outer, DisableColCountCheck = true }).From(text);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new DataFileException(file, 1, "header", e.Message);
        }
    }

    /// <summary>True for a blank line (skip it); throws for a row with fewer columns than the header.</summary>
    public static bool IsBlank(SepReader.Row row, SepReader reader, string file)
    {
        if (row.ColCount == 1 && row[0].Span.IsWhiteSpace()) return true;
        var expected = reader.Header.ColNames.Count;
        if (row.ColCount < expected)
            throw new DataFileException(file, row.LineNumberFrom, "row", $"has {row.ColCount} columns, the header has {expected}");
        return false;
    }

    public static int Column(SepReader reader, string file, string name)
    {
        if (reader.Header.TryIndexOf(name, out var i)) return i;
        throw new DataFileException(file, 1, name, $"column missing (header: {string.Join(",", reader.Header.ColNames)})");
    }

    /// <summary>Index of an optional column, or -1 when the header lacks it.</summary>
    public static int OptionalColumn(SepReader reader, string name) => reader.Header.TryIndexOf(name, out var i) ? i : -1;

    public static double Number(SepReader.Row row, int col, string file, string name, double min = double.MinValue)
    {
        var span = row[col].Span;
        if (!double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new DataFileException(file, row.LineNumberFrom, name, $"must be a number, not '{span}'");
        if (v < min) throw new DataFileException(file, row.LineNumberFrom, name, $"must be at least {min.ToString(CultureInfo.InvariantCulture)}, not {span}");
        return v;
    }

    public static int Integer(SepReader.Row row, int col, string file, string name, int min, int fallback = int.MinValue)
    {
        var span = row[col].Span;
        if (span.IsEmpty && fallback != int.MinValue) return fallback;
        if (!int.TryParse(span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new DataFileException(file, row.LineNumberFrom, name, $"must be a whole number, not '{span}'");
        if (v < min) throw new DataFileException(file, row.LineNumberFrom, name, $"must be at least {min}, not {v}");
        return v;
    }

    public static string Text(SepReader.Row row, int col, string file, string name)
    {
        var s = row[col].ToString();
        if (string.IsNullOrWhiteSpace(s)) throw new DataFileException(file, row.LineNumberFrom, name, "must not be empty");
        return s;
    }

    /// <summary>
    /// Jobs of a trace that records no ids, limits or priorities: sorted by submit time (then file
    /// line), numbered from 1, with the run time rounded up by <see cref="TimeLimitLadder"/> as limit.
    /// </summary>
    public static IReadOnlyList<TraceJob> Number(List<TraceRow> rows) =>
        [.. rows.OrderBy(r => r.Submit).ThenBy(r => r.Line).Select((r, i) => new TraceJob(
            new JobSpec(i + 1, r.Tenant, r.Gpus, [], TopologyNeed.Site, TimeLimitLadder.RoundUp(r.Runtime), 0, r.Submit), r.Runtime))];
}
