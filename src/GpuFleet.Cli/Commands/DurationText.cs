using System.Globalization;

namespace GpuFleet.Cli.Commands;

/// <summary>Durations on the command line: seconds, or a number with <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c> (<c>90</c>, <c>30m</c>, <c>4h</c>, <c>2d</c>).</summary>
internal static class DurationText
{
    public static long Seconds(string text, string option)
    {
        var t = text.Trim();
        var unit = t.Length > 0 && char.IsLetter(t[^1]) ? char.ToLowerInvariant(t[^1]) : 's';
        var scale = unit switch { 's' => 1L, 'm' => 60L, 'h' => 3_600L, 'd' => 86_400L, _ => 0L };
        var digits = t.Length > 0 && char.IsLetter(t[^1]) ? t[..^1] : t;
        if (scale == 0 || !double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0))
            throw new CliUsageException($"{option}: '{text}' is not a duration such as 90, 30m, 4h or 2d");
        return (long)Math.Round(value * scale);
    }
}
