using System.Globalization;
using System.Text.RegularExpressions;
using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The scheduler's reason for a pending job in plain words: its times, written on the scheduler's
/// clock (<c>t=1796216193</c>, seconds), become dates. Example: "next to start: 8 GPUs reserved,
/// starting by t=1796216193" reads "next to start: 8 GPUs reserved, starting by 2026-12-02 12:56:33 UTC".
/// </summary>
internal static partial class ReasonText
{
    /// <summary>A pending job the scheduler has not looked at yet (submitted since its last cycle).</summary>
    public const string NotYetSeen = "just submitted: the scheduler looks at it in its next cycle";

    /// <summary>What a replica that does not schedule says: only the leader knows why a job waits.</summary>
    public const string NotKnownHere = "known only to the replica that schedules (reload there)";

    /// <summary>The message with its clock times as dates.</summary>
    public static string Of(string message, ServerSettings settings) =>
        ClockTime().Replace(message, m => long.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var t)
            ? DashboardFormat.Time(settings.FromClock(t))
            : m.Value);

    [GeneratedRegex(@"\bt=(\d{1,18})\b")]
    private static partial Regex ClockTime();
}
