using System.Globalization;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// Reads what the Slurm 22.05+ tools print with the formats GpuFleet asks for: <c>squeue</c>'s and
/// <c>sinfo</c>'s <c>--Format</c> fields separated by <c>|</c>, <c>sacct --parsable2</c>, <c>sbatch
/// --parsable</c>, and the tools' error messages. Times are Unix seconds (the tools run with
/// <c>SLURM_TIME_FORMAT=%s</c>).
/// </summary>
internal static class SlurmOutput
{
    /// <summary>
    /// <c>squeue --Format</c> for every job: each field ends in <c>|</c> (no padding, no truncation); the name,
    /// free text of any user's choosing, comes last so that a <c>|</c> in it cannot shift the other fields.
    /// <c>exit_code</c> is the raw wait status (<c>768</c>: exit code 3); <c>EndTime</c> of a running job is
    /// when its time limit ends it.
    /// </summary>
    public const string QueueFormat = "JobID:|,HetJobID:|,HetJobOffset:|,State:|,Reason:|,exit_code:|,StartTime:|,EndTime:|,tres-per-node:|,NodeList:|,Name:|";

    /// <summary><c>sinfo --Node --Format</c>: one line per node and partition; CPUs and memory (MB) last.</summary>
    public const string NodeFormat = "NodeList:|,Gres:|,GresUsed:|,StateComplete:|,CPUs:|,Memory:|";

    /// <summary><c>sacct --format</c> of the allocations (no steps); the name last, as in <see cref="QueueFormat"/>.</summary>
    public const string AccountingFormat = "JobID,State,ExitCode,Start,End,NodeList,JobName";

    /// <summary>The jobs in <c>squeue -h -O <see cref="QueueFormat"/></c> output.</summary>
    /// <exception cref="FormatException">A line is not in that format.</exception>
    public static IReadOnlyList<SlurmJob> ParseQueue(string text)
    {
        var jobs = new List<SlurmJob>();
        foreach (var line in Lines(text))
        {
            var f = Fields(line, 11);
            var leader = f[1] is "N/A" or "" ? f[0] : f[1];
            var component = int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : 0;
            if (!int.TryParse(f[5], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
                throw new FormatException($"squeue: '{f[5]}' is not an exit status in '{line}'");
            jobs.Add(new SlurmJob(f[0], leader, component, f[10], f[3].ToUpperInvariant(), f[4],
                (status >> 8) & 0xff, status & 0x7f, Time(f[6]), Time(f[7]), Nodes(f[9]), GpusPerNode(f[8])));
        }
        return jobs;
    }

    /// <summary>The nodes in <c>sinfo -h -N -O <see cref="NodeFormat"/></c> output, each once (sinfo repeats a node for each of its partitions).</summary>
    /// <exception cref="FormatException">A line is not in that format.</exception>
    public static IReadOnlyList<SlurmNode> ParseNodes(string text)
    {
        var nodes = new List<SlurmNode>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
        {
            // Four fields where CPUs and memory were not asked for (an older format's output).
            var f = Fields(line, line.TrimEnd('|').Count(c => c == '|') >= 5 ? 6 : 4);
            if (!seen.Add(f[0])) continue;
            var gpus = Gpus(f[1], out var model);
            var (cpus, memory) = f.Length == 6 ? (Count(f[4], "CPUs", line), Count(f[5], "Memory", line)) : (0, 0);
            nodes.Add(new SlurmNode(f[0], gpus, model, Gpus(f[2], out _), f[3].ToLowerInvariant(), (int)Math.Min(int.MaxValue, cpus), memory));
        }
        return nodes;
    }

    /// <summary>The jobs in <c>sacct -n -P -X -o <see cref="AccountingFormat"/></c> output.</summary>
    /// <exception cref="FormatException">A line is not in that format.</exception>
    public static IReadOnlyList<SlurmJob> ParseAccounting(string text)
    {
        var jobs = new List<SlurmJob>();
        foreach (var line in Lines(text))
        {
            var f = line.Split('|', 7);
            if (f.Length < 7) throw new FormatException($"sacct: expected 7 fields in '{line}'");
            // A heterogeneous job's components are "<leader>+<offset>".
            var plus = f[0].IndexOf('+', StringComparison.Ordinal);
            var leader = plus < 0 ? f[0] : f[0][..plus];
            var component = plus < 0 ? 0 : int.Parse(f[0].AsSpan(plus + 1), NumberStyles.None, CultureInfo.InvariantCulture);
            // "CANCELLED by 1000": the state is the first word.
            var state = f[1].Split(' ', 2)[0].ToUpperInvariant();
            // "exit:signal", e.g. "3:0" or "0:15".
            var colon = f[2].IndexOf(':', StringComparison.Ordinal);
            var code = colon < 0 ? f[2] : f[2][..colon];
            var signal = colon < 0 ? "0" : f[2][(colon + 1)..];
            jobs.Add(new SlurmJob(f[0], leader, component, f[6], state, "None",
                int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : 0,
                int.TryParse(signal, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0,
                Time(f[3]), Time(f[4]), f[5] == "None assigned" ? [] : Nodes(f[5]), 0));
        }
        return jobs;
    }

    /// <summary>The job id <c>sbatch --parsable</c> printed (<c>123</c>, or <c>123;cluster</c>); null when it printed none.</summary>
    public static string? ParseSubmitted(string text)
    {
        foreach (var line in Lines(text))
        {
            var id = line.Split(';', 2)[0].Trim();
            if (id.Length > 0 && id.All(char.IsAsciiDigit)) return id;
        }
        return null;
    }

    /// <summary>The run ids in <c>squeue -o %i</c> output (<c>123</c>, or <c>123+0</c> for each component of a heterogeneous job), each once.</summary>
    public static IReadOnlyList<string> ParseIds(string text) =>
        [.. Lines(text).Select(l => l.Split('+', 2)[0].Trim()).Where(id => id.Length > 0).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// GPUs in a GRES text (<c>gpu:8</c>, <c>gpu:h100:8(S:0-1)</c>, <c>gpu:a100:4,gpu:v100:2</c>,
    /// <c>gpu:h100:5(IDX:0-2,5-6)</c>, <c>(null)</c>), and their type: the one with the most GPUs when
    /// several, null when untyped.
    /// </summary>
    public static int Gpus(string gres, out string? model)
    {
        model = null;
        var total = 0;
        var most = 0;
        foreach (var element in TopLevel(gres))
        {
            var paren = element.IndexOf('(', StringComparison.Ordinal);
            var parts = (paren < 0 ? element : element[..paren]).Split(':');
            if (parts[0] != "gpu") continue;
            var count = parts.Length == 1 ? 1 : int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            total += count;
            if (parts.Length >= 3 && count > most)
            {
                most = count;
                model = parts[1];
            }
        }
        return total;
    }

    /// <summary>GPUs per node in <c>squeue</c>'s <c>tres-per-node</c> (<c>gres:gpu:8</c>, <c>gres:gpu:h100:8</c>, <c>gres/gpu:8</c>, <c>N/A</c>).</summary>
    public static int GpusPerNode(string tres)
    {
        var total = 0;
        foreach (var item in tres.Split(','))
        {
            var t = item.Trim();
            if (!t.StartsWith("gres:gpu", StringComparison.Ordinal) && !t.StartsWith("gres/gpu", StringComparison.Ordinal)) continue;
            var sep = t.LastIndexOfAny([':', '=']);
            if (sep > "gres:gpu".Length - 1 && int.TryParse(t.AsSpan(sep + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) total += n;
            else if (t is "gres:gpu" or "gres/gpu") total += 1;
        }
        return total;
    }

    /// <summary>
    /// Whether a tool's message says it could not talk to the controller (or could not authenticate to
    /// it): nothing it was asked to do is known to have happened.
    /// </summary>
    public static bool IsUnreachable(string message) => UnreachableSigns.Any(s => message.Contains(s, StringComparison.OrdinalIgnoreCase));

    private static readonly string[] UnreachableSigns =
    [
        "Unable to contact slurm controller",
        "connect failure",
        "Connection refused",
        "Connection reset",
        "Socket timed out",
        "Zero Bytes were transmitted or received",
        "Communication connection failure",
        "Transport endpoint is not connected",
        "Network is unreachable",
        "No route to host",
        "Protocol authentication error",
        "Munge encode failed",
        "Slurm backup controller in standby mode",
        "Slurm temporarily unable to accept job",
    ];

    /// <summary>
    /// Whether an error of a signal or cancel says the job does not run (over, unknown, or not yet started):
    /// what "nothing for those not running" means, through the tools and through slurmrestd alike.
    /// </summary>
    public static bool IsNotRunning(string message) => NotRunningSigns.Any(s => message.Contains(s, StringComparison.OrdinalIgnoreCase));

    private static readonly string[] NotRunningSigns =
    [
        "Invalid job id specified",
        "Job can not be altered now",
        "already completing or completed",
        "Job is pending execution",
    ];

    /// <summary>A tool's error in Slurm's words, without the tool's own prefixes (<c>sbatch: error: </c>).</summary>
    public static string Message(SlurmToolResult result)
    {
        var text = result.Error.Trim().Length > 0 ? result.Error : result.Output;
        var lines = Lines(text)
            .Select(l => StripPrefix(l.Trim()))
            .Where(l => l.Length > 0)
            .ToList();
        return lines.Count > 0 ? string.Join("; ", lines) : string.Create(CultureInfo.InvariantCulture, $"exit code {result.ExitCode}");
    }

    private static string StripPrefix(string line)
    {
        foreach (var tool in (string[])["sbatch", "squeue", "sinfo", "sacct", "scancel"])
        {
            if (line.StartsWith(tool + ": error: ", StringComparison.Ordinal)) return line[(tool.Length + 9)..];
            if (line.StartsWith(tool + ": ", StringComparison.Ordinal)) return line[(tool.Length + 2)..];
        }
        return line;
    }

    /// <summary>Unix seconds; null for <c>N/A</c>, <c>Unknown</c>, <c>None</c> and 0.</summary>
    private static DateTimeOffset? Time(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? DateTimeOffset.FromUnixTimeSeconds(s) : null;

    private static IReadOnlyList<string> Nodes(string hostList)
    {
        if (hostList is "" or "(null)" or "N/A") return [];
        try { return HostList.Expand(hostList); }
        catch (FormatException) { return [hostList]; }
    }

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0);

    // The first count-1 fields split at '|', the rest (the free-text last field) whole; each field ends
    // in '|', so the line's last '|' is dropped first.
    // A whole number sinfo printed for a node ("32", "1000"); one that is not is a format error naming it.
    private static long Count(string text, string field, string line) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new FormatException($"sinfo: {field} '{text.Trim()}' is not a whole number in '{line}'");

    private static string[] Fields(string line, int count)
    {
        var body = line.EndsWith('|') ? line[..^1] : line;
        var f = body.Split('|', count);
        if (f.Length < count) throw new FormatException($"expected {count} fields separated by '|' in '{line}'");
        for (var i = 0; i < count - 1; i++) f[i] = f[i].Trim();
        return f;
    }

    // GRES elements separated by commas outside parentheses ("gpu:h100:5(IDX:0-2,5-6),mps:100").
    private static IEnumerable<string> TopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i].Trim();
                start = i + 1;
            }
        }
        yield return text[start..].Trim();
    }
}
