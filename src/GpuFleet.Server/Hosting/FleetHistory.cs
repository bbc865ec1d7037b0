namespace GpuFleet.Server.Hosting;

/// <summary>
/// What each site drew over the last hours, from the snapshots the leader takes every few seconds:
/// mean busy GPUs and power per 5-minute stretch over the last 6 hours, and facility energy since
/// midnight UTC. Example: snapshots at 10:00:00 (2.0 MW) and 10:00:02 (2.2 MW) add 2.0 MW × 2 s =
/// 1.1 kWh to today's energy (the earlier power holds until the next sample), and both fall in the
/// 10:00–10:05 stretch, whose point is their mean once 10:05 has passed.
/// <para>Kept in the leader's memory and published inside its snapshot, so followers show it too; a new
/// leader starts counting afresh (<see cref="FleetSnapshot.SiteView.EnergySince"/> says from when).</para>
/// </summary>
internal sealed class FleetHistory
{
    public static readonly TimeSpan Stretch = TimeSpan.FromMinutes(5);
    public const int Stretches = 72;
    // A gap longer than this (a paused leader) is not filled with the last power seen.
    private static readonly TimeSpan LongestStep = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, SiteHistory> _sites = [];

    private sealed class SiteHistory
    {
        public readonly Queue<FleetSnapshot.UsePoint> Points = new();
        public DateTimeOffset StretchStart;
        public double BusySum, PowerSum;
        public int Samples;
        public DateTimeOffset? LastAt;
        public double LastPowerMw;
        public double EnergyMwh;
        public DateTimeOffset EnergySince;
    }

    /// <summary>Counts one snapshot and answers it with each site's history and energy attached.</summary>
    public FleetSnapshot Record(FleetSnapshot view)
    {
        var at = view.At;
        var stretchStart = new DateTimeOffset(at.UtcTicks - at.UtcTicks % Stretch.Ticks, TimeSpan.Zero);
        var midnight = new DateTimeOffset(at.UtcDateTime.Date, TimeSpan.Zero);
        foreach (var site in view.Sites)
        {
            if (!_sites.TryGetValue(site.Site, out var h))
                _sites[site.Site] = h = new SiteHistory { StretchStart = stretchStart, EnergySince = at };
            if (h.LastAt is { } last && at <= last) continue;   // a view asked again within the same instant
            if (stretchStart != h.StretchStart)
            {
                if (h.Samples > 0) h.Points.Enqueue(new FleetSnapshot.UsePoint(h.StretchStart, Math.Round(h.BusySum / h.Samples, 1), Math.Round(h.PowerSum / h.Samples, 3)));
                while (h.Points.Count > 0 && h.Points.Peek().At < stretchStart - Stretch * Stretches) h.Points.Dequeue();
                (h.StretchStart, h.BusySum, h.PowerSum, h.Samples) = (stretchStart, 0, 0, 0);
            }
            h.BusySum += site.BusyGpus;
            h.PowerSum += site.PowerMw;
            h.Samples++;
            if (h.LastAt is { } previous && at - previous <= LongestStep)
            {
                // Across midnight only the part after it counts, towards the new day.
                if (previous < midnight) (h.EnergyMwh, h.EnergySince) = (0, midnight);
                h.EnergyMwh += h.LastPowerMw * (at - (previous < midnight ? midnight : previous)).TotalHours;
            }
            else if (h.EnergySince < midnight) (h.EnergyMwh, h.EnergySince) = (0, at);   // back after a long gap, on a later day
            // (A gap within the day adds nothing: what was drawn while nobody looked is not known.)
            (h.LastAt, h.LastPowerMw) = (at, site.PowerMw);
        }
        return view with
        {
            Sites = [.. view.Sites.Select(s => _sites.TryGetValue(s.Site, out var h)
                ? s with { History = [.. h.Points], EnergyTodayMwh = Math.Round(h.EnergyMwh, 4), EnergySince = h.EnergySince }
                : s)],
        };
    }
}
