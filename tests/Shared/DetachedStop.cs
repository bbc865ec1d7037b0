using System.Diagnostics;

namespace GpuFleet.Tests.Shared;

/// <summary>
/// Stops a server a test run started once the test host is gone, from a watcher in a session of its own.
/// The test runner may kill the host as soon as its tests end, so that neither a stop started from the
/// host's exit event nor the event itself can be relied on (a 16-node Slurm and a PostgreSQL both outlived
/// runs that way). The watcher polls for the host's process and runs the stop when it has gone, however it went.
/// </summary>
internal static class DetachedStop
{
    /// <summary>
    /// Runs <paramref name="command"/> with bash, in a new session with its output discarded, once this
    /// process has exited; <paramref name="arguments"/> are its <c>$0</c>, <c>$1</c>, …
    /// </summary>
    public static void WhenThisProcessExits(string command, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false };
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add("-c");
        // Nothing is written to the host's pipes, which close when it goes.
        psi.ArgumentList.Add($"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {command}");
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
    }
}
