using GpuFleet.Data;

namespace GpuFleet.Cli.Commands;

/// <summary>Durations on the command line (see <see cref="Duration"/>), positive, with the option named when they are not.</summary>
internal static class DurationText
{
    public static long Seconds(string text, string option) =>
        Duration.TryParseSeconds(text, out var seconds) && seconds > 0
            ? seconds
            : throw new CliUsageException($"{option}: '{text}' is not a duration such as 90, 30m, 4h or 2d");
}
