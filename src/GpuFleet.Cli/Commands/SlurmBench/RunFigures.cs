using GpuFleet.Simulation.Reports;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// What one variant of the bench achieved, from each job's submission, start and end (whole seconds, as
/// Slurm records them).
/// <para>Example: three jobs submitted at 0 that start at 0, 0 and 10 and end at 10, 12 and 15: makespan 15 s
/// (first submission to last end), waits 0, 0, 10 (mean 3.3 s), starts per second peak 2 (two in second 0),
/// overall 3 / 10 s = 0.3 (jobs over the time from the first submission to the last start).</para>
/// </summary>
/// <param name="Jobs">Jobs that ran.</param>
/// <param name="MakespanSeconds">First submission to last end.</param>
/// <param name="MeanWaitSeconds">Mean of submission to start.</param>
/// <param name="P95WaitSeconds">95th percentile of the waits.</param>
/// <param name="PeakStartsPerSecond">Most jobs started within one second.</param>
/// <param name="StartsPerSecond">Jobs over the seconds from the first submission to the last start (at least 1).</param>
internal sealed record RunFigures(int Jobs, double MakespanSeconds, double MeanWaitSeconds, double P95WaitSeconds, int PeakStartsPerSecond, double StartsPerSecond)
{
    public static RunFigures Of(IReadOnlyCollection<(DateTimeOffset Submit, DateTimeOffset Start, DateTimeOffset End)> runs)
    {
        if (runs.Count == 0) return new RunFigures(0, 0, 0, 0, 0, 0);
        var first = runs.Min(r => r.Submit);
        var waits = runs.Select(r => (r.Start - r.Submit).TotalSeconds).Order().ToList();
        var peak = runs.GroupBy(r => r.Start.ToUnixTimeSeconds()).Max(g => g.Count());
        var span = Math.Max(1, (runs.Max(r => r.Start) - first).TotalSeconds);
        return new RunFigures(runs.Count, (runs.Max(r => r.End) - first).TotalSeconds, waits.Average(), Percentile.OfSorted(waits, 0.95), peak, runs.Count / span);
    }
}
