using System.Runtime.InteropServices;

namespace GpuFleet.Executors.Local;

/// <summary>
/// Signals to a whole process group (a job's shell and everything it started, which share the group the
/// job was started in), and whether anything of it still lives. Linux signal numbers.
/// </summary>
internal static class ProcessGroup
{
    public const int SigKill = 9;
    public const int SigUsr1 = 10;
    public const int SigTerm = 15;
    private const int Eperm = 1;

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="group"/>; false when the group has none left.</summary>
    public static bool Signal(int group, int signal) => group > 1 && kill(-group, signal) == 0;

    /// <summary>The processes of group <paramref name="group"/> that have not ended.</summary>
    public static IReadOnlyList<int> Members(int group)
    {
        var members = new List<int>();
        foreach (var pid in ProcStat.AllPids())
        {
            if (ProcStat.Read(pid) is { IsDead: false } stat && stat.Group == group) members.Add(pid);
        }
        return members;
    }

    /// <summary>Whether a process of group <paramref name="group"/> still runs; zombies do not count (they hold nothing and wait for a parent that may never reap them).</summary>
    public static bool IsAlive(int group)
    {
        if (group <= 1) return false;
        // The cheap test first: no process at all in the group.
        if (kill(-group, 0) != 0 && Marshal.GetLastPInvokeError() != Eperm) return false;
        return Members(group).Count > 0;
    }

    /// <summary>
    /// Ends every process of the group: SIGTERM, then SIGKILL to whatever is left after <paramref name="grace"/>;
    /// returns once none runs (or, should one not die even of SIGKILL, after a further while).
    /// </summary>
    public static async Task EndAsync(int group, TimeSpan grace, CancellationToken cancel)
    {
        if (!IsAlive(group)) return;
        Signal(group, SigTerm);
        if (await GoneWithinAsync(group, grace, cancel)) return;
        Signal(group, SigKill);
        // A process in uninterruptible sleep (a hung NFS read, a GPU driver call) dies only when that returns.
        await GoneWithinAsync(group, TimeSpan.FromSeconds(30), cancel);
    }

    private static async Task<bool> GoneWithinAsync(int group, TimeSpan time, CancellationToken cancel)
    {
        var until = DateTimeOffset.UtcNow + time;
        while (IsAlive(group))
        {
            if (DateTimeOffset.UtcNow >= until) return false;
            await Task.Delay(50, cancel);
        }
        return true;
    }

    // DllImport rather than LibraryImport: the generated stub needs unsafe code, and int in, int out needs no marshalling.
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
