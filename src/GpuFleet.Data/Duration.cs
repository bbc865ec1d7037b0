using System.Globalization;

namespace GpuFleet.Data;

/// <summary>Durations as people write them: seconds, or a number with <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c> (<c>90</c>, <c>30m</c>, <c>4h</c>, <c>7d</c>).</summary>
public static class Duration
{
    /// <summary>The duration in whole seconds, or false when the text is not one.</summary>
    public static bool TryParseSeconds(string text, out long seconds)
    {
        seconds = 0;
        var t = text.Trim();
        var hasUnit = t.Length > 0 && char.IsLetter(t[^1]);
        var scale = (hasUnit ? char.ToLowerInvariant(t[^1]) : 's') switch { 's' => 1L, 'm' => 60L, 'h' => 3_600L, 'd' => 86_400L, _ => 0L };
        if (scale == 0 || !double.TryParse(hasUnit ? t[..^1] : t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            return false;
        seconds = (long)Math.Round(value * scale);
        return true;
    }
}
