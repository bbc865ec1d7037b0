using System.Globalization;

namespace GpuFleet.Server.Dashboard;

/// <summary>Numbers and times as the dashboard writes them: UTC, whole seconds, durations in their two largest units.</summary>
internal static class DashboardFormat
{
    /// <summary><c>2026-11-25 14:03:09 UTC</c>.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary><c>2d 3h</c>, <c>4h 12m</c>, <c>5m 2s</c>, <c>9s</c>.</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        if (span.TotalDays >= 1) return $"{(int)span.TotalDays}d {span.Hours}h";
        if (span.TotalHours >= 1) return $"{(int)span.TotalHours}h {span.Minutes}m";
        if (span.TotalMinutes >= 1) return $"{(int)span.TotalMinutes}m {span.Seconds}s";
        return $"{(int)span.TotalSeconds}s";
    }

    /// <summary>A whole number with thousands separators: <c>260,000</c>.</summary>
    public static string Count(double n) => n.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>A number with one decimal: <c>12.5</c>.</summary>
    public static string One(double n) => n.ToString("#,0.0", CultureInfo.InvariantCulture);

    /// <summary>A share as a percentage of a whole: <c>42%</c> (0 of 0 is 0%).</summary>
    public static string Percent(double part, double whole) => whole <= 0 ? "0%" : (part / whole).ToString("0%", CultureInfo.InvariantCulture);

    /// <summary>Energy in the unit that reads best: <c>12.5 MWh</c>, <c>830.2 kWh</c>.</summary>
    public static string Energy(double mwh) => mwh >= 1 ? $"{One(mwh)} MWh" : $"{One(mwh * 1000)} kWh";
}
