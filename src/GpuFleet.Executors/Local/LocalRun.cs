using System.Diagnostics;

namespace GpuFleet.Executors.Local;

/// <summary>A job running on this machine: the process group it runs in, and how its end is awaited.</summary>
/// <param name="group">The process group (and session) the job's shell leads; its id is the shell's pid.</param>
/// <param name="process">The job's shell when this executor started it; null for a run found after a restart, which is watched in <c>/proc</c>.</param>
/// <param name="startTicks">The shell's start time (see <see cref="ProcStat.StartTicks"/>), to tell it from a later process with its pid (0 when <paramref name="process"/> is known).</param>
/// <param name="deadline">When its time limit is reached.</param>
/// <param name="timeLimitSeconds">Its time limit, for the account of a timeout; null for a run found after a restart.</param>
/// <param name="statusPath">Where its shell writes its exit status.</param>
internal sealed class LocalRun(long jobId, int group, Process? process, ulong startTicks, DateTimeOffset deadline, long? timeLimitSeconds, string statusPath)
{
    public long JobId { get; } = jobId;
    public int Group { get; } = group;
    public Process? Process { get; } = process;
    public ulong StartTicks { get; } = startTicks;
    public DateTimeOffset Deadline { get; } = deadline;
    public long? TimeLimitSeconds { get; } = timeLimitSeconds;
    public string StatusPath { get; } = statusPath;

    /// <summary>Completed by a cancel: the watcher then ends the group.</summary>
    public TaskCompletionSource CancelRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>UUIDs of the MIG instances it was given (not given to another job while it runs); empty for a run found after a restart.</summary>
    public IReadOnlyList<string> MigDevices { get; set; } = [];

    /// <summary>Its end was reported (it no longer counts among the runs).</summary>
    public bool Ended { get; set; }
}
