using System.Diagnostics;

namespace GpuFleet.Tests.Shared;

/// <summary>
/// Stops a server a test run started, from the test host's exit, in a session of its own. The test runner may
/// kill the host moments after its tests end, before a stop it waits on has finished (a 16-node Slurm takes
/// seconds): the server then outlived the run. Started with <c>setsid</c>, the stop finishes either way.
/// </summary>
internal static class DetachedStop
{
    // Long enough for a stop that the host is left to finish; the stop goes on if the host goes first.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="command"/> with bash in a new session, its output discarded, and waits for it a while.</summary>
    public static void Run(string command, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false };
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add("-c");
        // Nothing is written to the host's pipes, which close when it goes.
        psi.ArgumentList.Add("exec </dev/null >/dev/null 2>&1; " + command);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        p.WaitForExit(Wait);
    }
}
