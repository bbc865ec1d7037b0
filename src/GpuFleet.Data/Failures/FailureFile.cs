using GpuFleet.Core.Fleets;
using GpuFleet.Data.Traces;

namespace GpuFleet.Data.Failures;

/// <summary>
/// A failures file (<c>docs/failure-format.md</c>): CSV with the header <c>at,target,duration</c> (in any
/// order), one outage per line. <c>at</c> is when it begins, from the start of the trace (the clock of its
/// submission times); <c>target</c> a site of the fleet (every node of it) or a node by name
/// (<c>philly-p100-0012</c>); <c>duration</c> how long until it is repaired. Times are seconds or a number
/// with <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c>. Blank lines and lines starting with <c>#</c> are skipped.
/// </summary>
public static class FailureFile
{
    /// <summary>The header line.</summary>
    public const string Header = "at,target,duration";

    // A bound far beyond any trace, so that times added together cannot overflow.
    private const long MaxSeconds = 100L * 365 * 86_400;

    private static readonly string[] Columns = ["at", "target", "duration"];

    /// <summary>Reads a failures file (plain or gzip), its targets resolved against <paramref name="fleet"/>; in file order.</summary>
    public static IReadOnlyList<FailureEntry> Load(string path, Fleet fleet)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        try
        {
            using var text = TraceCsv.Open(path);
            return Read(text, path, fleet);
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(path, 0, "file", $"is not a readable gzip file ({e.Message})");
        }
    }

    private static List<FailureEntry> Read(TextReader text, string path, Fleet fleet)
    {
        var siteNodes = SiteNodes(fleet);
        int[]? column = null;  // position of at, target, duration in a row
        var entries = new List<FailureEntry>();
        long line = 0;
        while (text.ReadLine() is { } raw)
        {
            line++;
            var content = (line == 1 ? raw.TrimStart('\uFEFF') : raw).Trim();
            if (content.Length == 0 || content.StartsWith('#')) continue;
            var fields = content.Split(',').Select(f => f.Trim()).ToArray();
            if (column is null)
            {
                column = ReadHeader(fields, path, line);
                continue;
            }
            if (fields.Length != Columns.Length)
                throw new DataFileException(path, line, "row", $"has {fields.Length} columns, the header has {Columns.Length}");
            var at = Time(fields[column[0]], path, line, "at", min: 0, "a time from the start of the trace such as 3600, 90m, 12h or 2d");
            var target = fields[column[1]];
            if (target.Length == 0) throw new DataFileException(path, line, "target", "must not be empty");
            var duration = Time(fields[column[2]], path, line, "duration", min: 1, "a duration such as 600, 30m, 4h or 2d");
            entries.Add(new FailureEntry(at, target, Resolve(target, fleet, siteNodes, path, line), duration, line));
        }
        if (column is null) throw new DataFileException(path, 1, "header", $"the file has no header; expected '{Header}'");
        return entries;
    }

    private static int[] ReadHeader(string[] names, string path, long line)
    {
        foreach (var name in names)
            if (!Columns.Contains(name, StringComparer.Ordinal))
                throw new DataFileException(path, line, "header", $"unknown column '{name}'; expected '{Header}'");
        var column = new int[Columns.Length];
        for (var i = 0; i < Columns.Length; i++)
        {
            column[i] = Array.IndexOf(names, Columns[i]);
            if (column[i] < 0) throw new DataFileException(path, line, Columns[i], $"column missing (header: {string.Join(",", names)})");
            if (Array.LastIndexOf(names, Columns[i]) != column[i]) throw new DataFileException(path, line, Columns[i], "column given twice");
        }
        return column;
    }

    private static long Time(string text, string path, long line, string field, long min, string what)
    {
        if (!Duration.TryParseSeconds(text, out var seconds)) throw new DataFileException(path, line, field, $"must be {what}, not '{text}'");
        if (seconds < min) throw new DataFileException(path, line, field, min == 0 ? $"must not be negative, not '{text}'" : $"must be at least {min} s, not '{text}'");
        if (seconds > MaxSeconds) throw new DataFileException(path, line, field, $"must be at most 100 years, not '{text}'");
        return seconds;
    }

    // A site's name takes every node of the site; otherwise a node's name (letter case aside, as host names go).
    private static IReadOnlyList<int> Resolve(string target, Fleet fleet, List<int>[] siteNodes, string path, long line)
    {
        var site = fleet.SiteIndex(target);
        if (site >= 0)
        {
            if (siteNodes[site].Count == 0) throw new DataFileException(path, line, "target", $"site '{target}' has no nodes");
            return siteNodes[site];
        }
        var node = fleet.NodeIndex(target);
        if (node >= 0) return [node];
        var example = fleet.NodeCount > 0 ? $"; nodes such as {fleet.NodeName(0)}" : "";
        throw new DataFileException(path, line, "target",
            $"'{target}' is neither a site nor a node of fleet '{fleet.Name}' (sites: {string.Join(", ", fleet.Sites.Select(s => s.Name))}{example})");
    }

    private static List<int>[] SiteNodes(Fleet fleet)
    {
        var nodes = fleet.Sites.Select(_ => new List<int>()).ToArray();
        for (var n = 0; n < fleet.NodeCount; n++) nodes[fleet.PoolSite(fleet.NodePool(n))].Add(n);
        return nodes;
    }
}
