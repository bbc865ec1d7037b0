using System.Globalization;
using System.Text.RegularExpressions;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// Reads Slurm's <c>jobcomp/filetxt</c> log: one line of <c>Key=value</c> fields per finished job (per
/// component of a heterogeneous job), times in the controller's local time to the second.
/// <para>Example: <c>JobId=7 ... Name=b-3 JobState=COMPLETED ... StartTime=2026-12-02T10:44:32
/// EndTime=2026-12-02T10:44:34 NodeList=n[03-04] ... SubmitTime=2026-12-02T10:44:31 ... HetJobId=7 HetJobOffset=0</c>;
/// with its component <c>JobId=8 ... HetJobId=7 HetJobOffset=1</c> it reads as one record of job 7.</para>
/// </summary>
internal static partial class JobCompLog
{
    [GeneratedRegex(@"(?:^| )([A-Za-z]+)=")]
    private static partial Regex Key();

    /// <summary>The records of the jobs whose names <paramref name="wanted"/> accepts, each job once; a missing file has none.</summary>
    public static IReadOnlyList<JobCompRecord> Read(string path, Func<string, bool> wanted)
    {
        if (!File.Exists(path)) return [];
        var parts = new List<(Dictionary<string, string> Fields, string Job)>();
        // The log is appended to while it is read: a last line without its newline is not whole yet.
        var text = File.ReadAllText(path);
        var whole = text.LastIndexOf('\n');
        foreach (var line in (whole < 0 ? "" : text[..whole]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = Fields(line);
            if (!fields.TryGetValue("Name", out var name) || !wanted(name) || !fields.TryGetValue("JobId", out var id)) continue;
            parts.Add((fields, fields.TryGetValue("HetJobId", out var het) && het.Length > 0 && het != "0" ? het : id));
        }
        return [.. parts.GroupBy(p => p.Job).Select(g => Combine(g.Key, [.. g.Select(p => p.Fields)]))];
    }

    internal static Dictionary<string, string> Fields(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = Key().Matches(line);
        for (var i = 0; i < keys.Count; i++)
        {
            var from = keys[i].Index + keys[i].Length;
            var to = i + 1 < keys.Count ? keys[i + 1].Index : line.Length;
            fields.TryAdd(keys[i].Groups[1].Value, line[from..to].Trim());
        }
        return fields;
    }

    private static JobCompRecord Combine(string job, List<Dictionary<string, string>> components)
    {
        var starts = components.Select(c => Time(c.GetValueOrDefault("StartTime"))).ToList();
        var states = components.Select(c => c.GetValueOrDefault("JobState", "UNKNOWN")).Distinct().ToList();
        return new JobCompRecord(
            job,
            components[0]["Name"],
            states.Count == 1 ? states[0] : states.FirstOrDefault(s => s != "COMPLETED") ?? states[0],
            components.Select(c => Time(c.GetValueOrDefault("SubmitTime"))).Min() ?? DateTimeOffset.MinValue,
            starts.All(s => s is not null) ? starts.Min() : null,
            components.Select(c => Time(c.GetValueOrDefault("EndTime"))).Max() ?? DateTimeOffset.MinValue,
            [.. components.SelectMany(c => c.GetValueOrDefault("NodeList") is { Length: > 0 } list && list != "(null)" && list != "None assigned" ? HostList.Expand(list) : []).Distinct()],
            components.Count);
    }

    // "2026-12-02T10:44:32" in the controller's local time (this machine's: the bench runs beside it); "Unknown" or "None": null.
    private static DateTimeOffset? Time(string? text) =>
        DateTime.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t)
            ? new DateTimeOffset(t)
            : null;
}
