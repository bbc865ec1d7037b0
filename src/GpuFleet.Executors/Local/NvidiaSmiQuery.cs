using System.Globalization;

namespace GpuFleet.Executors.Local;

/// <summary>
/// The <c>nvidia-smi</c> query the local executor runs, and a reader of its answer. The reader is lenient
/// about what drivers vary in (spaces, <c>[N/A]</c> and <c>[Not Supported]</c> for figures a model or driver
/// does not report, units left in) and strict about the rest: a line it cannot read is skipped and named in
/// <see cref="GpuReading.Problems"/>, so that one odd GPU neither hides the others nor stops the server.
/// </summary>
public static class NvidiaSmiQuery
{
    /// <summary>The fields asked for, in the order of each answered line.</summary>
    public const string Fields = "index,name,memory.total,temperature.gpu,power.draw,utilization.gpu";

    /// <summary>The arguments given to <c>nvidia-smi</c>.</summary>
    public static IReadOnlyList<string> Arguments { get; } = [$"--query-gpu={Fields}", "--format=csv,noheader,nounits"];

    private const int FieldCount = 6;

    /// <summary>Reads the answer of <c>nvidia-smi</c> to <see cref="Arguments"/>.</summary>
    public static GpuReading Parse(string output)
    {
        var gpus = new List<GpuTelemetry>();
        var problems = new List<string>();
        var lineNumber = 0;
        foreach (var raw in output.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0) continue;
            if (ParseLine(line) is not { } gpu)
            {
                problems.Add($"nvidia-smi line {lineNumber}: cannot read '{Shorten(line)}' (expected {Fields})");
                continue;
            }
            if (gpus.Any(g => g.Index == gpu.Index))
            {
                problems.Add($"nvidia-smi line {lineNumber}: GPU index {gpu.Index} appears twice; the first is kept");
                continue;
            }
            gpus.Add(gpu);
        }
        return new GpuReading([.. gpus.OrderBy(g => g.Index)], problems);
    }

    private static GpuTelemetry? ParseLine(string line)
    {
        var fields = line.Split(',');
        if (fields.Length < FieldCount) return null;
        // A name with a comma in it (nvidia-smi does not quote) leaves more fields: the figures are the last four.
        var name = string.Join(',', fields[1..^4]).Trim();
        if (!int.TryParse(fields[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var index) || name.Length == 0) return null;
        var figures = new double?[4];
        for (var i = 0; i < 4; i++)
        {
            if (!TryFigure(fields[^(4 - i)], out figures[i])) return null;
        }
        return new GpuTelemetry(index, name, figures[0], figures[1], figures[2], figures[3]);
    }

    // A figure, with or without its unit ("81920", "81920 MiB", "61.37 W", "0 %"); null where the driver has none.
    private static bool TryFigure(string text, out double? value)
    {
        value = null;
        var t = text.Trim();
        if (t.Length == 0 || t.StartsWith('[') && t.EndsWith(']') || t.Equals("N/A", StringComparison.OrdinalIgnoreCase)) return true;
        var end = 0;
        while (end < t.Length && (char.IsAsciiDigit(t[end]) || t[end] is '.' or '-')) end++;
        var unit = t[end..].Trim();
        if (unit.Length > 0 && unit is not ("MiB" or "W" or "%" or "C")) return false;
        if (!double.TryParse(t.AsSpan(0, end), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)) return false;
        value = v;
        return true;
    }

    private static string Shorten(string line) => line.Length <= 120 ? line : line[..120] + "…";
}
