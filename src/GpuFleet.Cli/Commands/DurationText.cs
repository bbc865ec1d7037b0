using GpuFleet.Data;

namespace GpuFleet.Cli.Commands;

/// <summary>Durations on the command line (see <see cref="Duration"/>), at least <c>min</c> seconds (1 unless said), with the option named when they are not.</summary>
internal static class DurationText
{
    public static long Seconds(string text, string option, long min = 1) =>
        Duration.TryParseSeconds(text, out var seconds) && seconds >= min
            ? seconds
            : throw new CliUsageException($"{option}: '{text}' is not a duration such as {(min <= 0 ? "0, " : "")}90, 30m, 4h or 2d");
}
