using GpuFleet.Core.Fleets;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// Facility energy a job was charged: each charged stretch (<see cref="ChargedTime"/>) at the busy power
/// of the model and site it then ran on, times the site's PUE — the usage report's rule, per job.
/// Example: 8 GPUs of a 1,000 W model at a site of PUE 1.2, charged 1 hour, then requeued and charged
/// 30 minutes at another site of PUE 1.1: 8 × 1 kW × 1.2 × 1 h + 8 × 1 kW × 1.1 × 0.5 h = 14 kWh.
/// </summary>
internal static class JobEnergy
{
    /// <summary>kWh charged over the history up to <paramref name="now"/>; stretches whose placement does not read as a site and model of the fleet count nothing.</summary>
    public static double Kwh(IReadOnlyList<JobEvent> history, double gpus, Fleet fleet, DateTimeOffset now)
    {
        // Where the job ran as of each event: the latest placement at or before it.
        var where = new (int Site, int Model)[history.Count];
        (int Site, int Model) current = (-1, -1);
        for (var i = 0; i < history.Count; i++)
        {
            if (history[i].State == JobState.Running && history[i].Detail is { } d && d.StartsWith(JobStore.PlacedPrefix, StringComparison.Ordinal))
            {
                var (site, model) = JobPlacement.SiteAndModel(d[JobStore.PlacedPrefix.Length..]);
                current = (site is null ? -1 : fleet.SiteIndex(site), model is null ? -1 : fleet.ModelIndex(model));
            }
            where[i] = current;
        }
        double joules = 0;
        foreach (var (i, start, end) in ChargedTime.IndexedStretches([.. history.Select(e => (e.At, e.State))], DateTimeOffset.MinValue, DateTimeOffset.MaxValue, now))
            if (where[i] is { Site: >= 0, Model: >= 0 } w) joules += fleet.BusyEnergyJoules(w.Model, w.Site, gpus * (end - start).TotalSeconds);
        return joules / 3.6e6;
    }
}
