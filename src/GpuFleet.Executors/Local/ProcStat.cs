using System.Globalization;

namespace GpuFleet.Executors.Local;

/// <summary>A process as <c>/proc/&lt;pid&gt;/stat</c> shows it: its state, group, session and start time.</summary>
/// <param name="StartTicks">When it started, in clock ticks since boot: with the pid, names one process even after pids wrap around.</param>
internal sealed record ProcStat(int Pid, char State, int Group, int Session, ulong StartTicks)
{
    /// <summary>It has ended and waits to be reaped (a zombie), or is being torn down: it holds no memory and no GPU.</summary>
    public bool IsDead => State is 'Z' or 'X' or 'x';

    /// <summary>The process <paramref name="pid"/>, or null when there is none (or it ended while being read).</summary>
    public static ProcStat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name in parentheses may hold spaces and parentheses itself: the fields follow the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0) return null;
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 of proc(5): state; then ppid, pgrp, session, …, starttime (field 22).
        return fields.Length > 19 && fields[0].Length == 1
            && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var group)
            && int.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var session)
            && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            ? new ProcStat(pid, fields[0][0], group, session, start)
            : null;
    }

    /// <summary>The pids of every process now.</summary>
    public static IEnumerable<int> AllPids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) yield return pid;
        }
    }

    /// <summary>The arguments process <paramref name="pid"/> was started with; null when it is gone.</summary>
    public static IReadOnlyList<string>? CommandLine(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            return text.Length == 0 ? null : text.TrimEnd('\0').Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
