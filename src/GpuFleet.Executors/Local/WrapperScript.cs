using System.Globalization;

namespace GpuFleet.Executors.Local;

/// <summary>
/// The <c>/bin/sh</c> script a local job runs in: it sends the job's output to its log, records how it
/// exited, survives the checkpoint signal, and then runs the job's command as written. Its arguments
/// carry the job's id, log and deadline, so that a server started after a crash finds its jobs again in
/// <c>/proc</c> (they run in sessions of their own and outlive it).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The exit status goes to a file (an EXIT trap), for a server that did not start the job and cannot wait for it.</item>
/// <item>SIGUSR1 (checkpoint) goes to the whole group; without the trap it would end the shell, and with it the job,
/// whenever the command is more than one program (<c>cd data &amp;&amp; python train.py</c>). A trap with an action, unlike
/// an ignored signal, is not inherited: the job's programs get SIGUSR1 as usual.</item>
/// <item>The arguments are cleared before the command runs, so that it sees none ($0 is the run's name, which
/// also names it in <c>ps</c> and in the shell's own error messages).</item>
/// </list>
/// </remarks>
internal static class WrapperScript
{
    private const string Shell = "/bin/sh";
    private const string Marker = "# gpufleet local run";

    /// <summary>The arguments to <c>setsid</c>: the shell, the script with <paramref name="command"/>, and the run's identity.</summary>
    public static IReadOnlyList<string> Arguments(RunNames names, long jobId, string command, string logPath, string statusPath, DateTimeOffset deadline) =>
    [
        Shell, "-c",
        $"""
        {Marker}
        exec </dev/null >>{Quote(logPath)} 2>&1 || exit 126
        set --
        trap {Quote("echo $? >" + Quote(statusPath))} EXIT
        trap : USR1
        {command}
        """,
        names.Of(jobId), logPath, deadline.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>A run's job id, log and deadline from its shell's arguments; null when they are not a run of installation <paramref name="names"/>.</summary>
    public static (long JobId, string LogPath, DateTimeOffset Deadline)? Recognize(RunNames names, IReadOnlyList<string>? arguments) =>
        arguments is [Shell, "-c", var script, var name, var log, var deadline]
        && script.StartsWith(Marker + "\n", StringComparison.Ordinal)
        && names.JobIdOf(name) is { } id
        && long.TryParse(deadline, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? (id, log, DateTimeOffset.FromUnixTimeSeconds(seconds))
            : null;

    // A word for the shell, taken as it is: in single quotes, where only the quote itself needs care.
    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
