using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Tests;

public sealed class FleetHistoryTests
{
    private static readonly DateTimeOffset Ten = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static FleetSnapshot View(DateTimeOffset at, int busy, double powerMw) =>
        new(at, 1, [], [new FleetSnapshot.SiteView("s", "o", 80, busy, powerMw, 10)], []);

    [Fact]
    public void Energy_counts_the_power_last_seen_until_the_next_snapshot()
    {
        var history = new FleetHistory();
        history.Record(View(Ten, 40, 2.0));
        var site = history.Record(View(Ten.AddSeconds(2), 60, 2.2)).Sites[0];
        // 2.0 MW for 2 s = 1.111 kWh.
        Assert.Equal(2.0 * 2 / 3600, site.EnergyTodayMwh!.Value, 4);
        Assert.Equal(Ten, site.EnergySince);
    }

    [Fact]
    public void Stretches_are_five_minute_means_kept_for_six_hours()
    {
        var history = new FleetHistory();
        FleetSnapshot last = null!;
        // Every 30 s for 7 hours: busy is the minute of the hour.
        for (var t = 0; t <= 7 * 3600; t += 30) last = history.Record(View(Ten.AddSeconds(t), t / 60 % 60, 1));
        var points = last.Sites[0].History!;
        Assert.Equal(FleetHistory.Stretches, points.Count);
        Assert.Equal(Ten.AddHours(7) - FleetHistory.Stretch, points[^1].At);
        // 16:55–17:00: minutes 55..59, two samples each.
        Assert.Equal(57, points[^1].BusyGpus);
        // Energy: 1 MW for 7 hours.
        Assert.Equal(7, last.Sites[0].EnergyTodayMwh!.Value, 3);
    }

    [Fact]
    public void A_new_day_starts_at_midnight_and_a_long_gap_adds_nothing()
    {
        var history = new FleetHistory();
        var late = new DateTimeOffset(2026, 12, 2, 23, 59, 50, TimeSpan.Zero);
        history.Record(View(late, 10, 3.6));
        var next = history.Record(View(late.AddSeconds(20), 10, 3.6)).Sites[0];
        // 10 s of the 20 fall after midnight: 3.6 MW × 10 s = 0.01 MWh, counted from midnight.
        Assert.Equal(0.01, next.EnergyTodayMwh!.Value, 6);
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero), next.EnergySince);
        var afterGap = history.Record(View(late.AddMinutes(30), 10, 3.6)).Sites[0];
        Assert.Equal(0.01, afterGap.EnergyTodayMwh!.Value, 6);
    }
}
