namespace GpuFleet.Server.Jobs;

/// <summary>
/// Which stretches of a job's history are charged as GPU time: from each <c>Running</c> event to the
/// event after it, or to now while it still runs. When a cluster reports that it started the run, that
/// report is a second <c>Running</c> event after the placement, stamped with the cluster's own start
/// time, and the charge starts there: the seconds between GpuFleet's placement and the cluster's start
/// (submission, the cluster's own scheduling pass, node setup) held no GPU work and are not billed.
/// </summary>
/// <remarks>
/// Example: placed at 10:00:00.700, Slurm reports the start at 10:00:02 and the end at 10:00:12: the
/// history is Running 00.700, Running 02 ("started on n01"), Succeeded 12, and the charge is the one
/// stretch 02–12 (10 s), as Slurm's own accounting has it. Without a start report (a simulated site)
/// it is 00.700–12.
/// </remarks>
public static class ChargedTime
{
    /// <summary>The charged stretches of one job's events (oldest first), each cut to [<paramref name="from"/>, <paramref name="to"/>) and to <paramref name="now"/>.</summary>
    public static IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> Stretches(
        IReadOnlyList<(DateTimeOffset At, JobState State)> events, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now) =>
        IndexedStretches(events, from, to, now).Select(s => (s.Start, s.End));

    /// <summary><see cref="Stretches"/> with the index of the <c>Running</c> event each starts from.</summary>
    public static IEnumerable<(int Index, DateTimeOffset Start, DateTimeOffset End)> IndexedStretches(
        IReadOnlyList<(DateTimeOffset At, JobState State)> events, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].State != JobState.Running) continue;
            // A Running event followed by another is the placement before the cluster's start report.
            if (i + 1 < events.Count && events[i + 1].State == JobState.Running) continue;
            var start = Max(events[i].At, from);
            var end = Min(i + 1 < events.Count ? events[i + 1].At : now, to);
            if (end > start) yield return (i, start, end);
        }
    }

    /// <summary>Seconds charged over the whole history of a job, up to <paramref name="now"/>.</summary>
    public static double Seconds(IReadOnlyList<JobEvent> history, DateTimeOffset now) =>
        Stretches([.. history.Select(e => (e.At, e.State))], DateTimeOffset.MinValue, DateTimeOffset.MaxValue, now).Sum(s => (s.End - s.Start).TotalSeconds);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
