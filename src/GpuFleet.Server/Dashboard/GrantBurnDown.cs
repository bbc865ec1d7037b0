using System.Globalization;
using System.Text;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// A grant burning down: GPU-hours left over its period, as charged from the job history, against a
/// steady burn from all at its start to none at its end. Example: a 1,000 GPU-hour grant for 10 days,
/// seen on day 4 with 520 charged so far, plots the plan from (day 0, 1,000) to (day 10, 0) and the
/// grant from (day 0, 1,000) down to (day 4, 480): 80 GPU-hours ahead of plan (burning faster).
/// Charges are GPU-seconds of the project's runs in each stretch times the model's billing weight,
/// read per stretch with the same store query as the usage report.
/// </summary>
internal static class GrantBurnDown
{
    /// <summary>Most stretches read for one chart.</summary>
    public const int Stretches = 24;

    private const double Width = 720, Height = 300, Left = 64, Right = 16, Top = 16, Bottom = 40;

    /// <summary>GPU-hours left at the start and at the end of each stretch of the period up to now.</summary>
    public static async Task<IReadOnlyList<(DateTimeOffset At, double LeftGpuHours)>> ReadAsync(JobStore store, ServerSettings settings,
        FleetSnapshot.GrantView grant, DateTimeOffset now, CancellationToken cancel)
    {
        var points = new List<(DateTimeOffset, double)> { (grant.Start, grant.GpuHours) };
        var until = now < grant.End ? now : grant.End;
        if (until <= grant.Start) return points;
        var step = (until - grant.Start) / Stretches;
        if (step < TimeSpan.FromMinutes(1)) step = TimeSpan.FromMinutes(1);
        var left = grant.GpuHours;
        for (var from = grant.Start; from < until; from += step)
        {
            var to = from + step < until ? from + step : until;
            foreach (var run in await store.RunIntervalsAsync(from, to, grant.Tenant, now, cancel))
                left -= run.Gpus * run.Seconds / 3600 * settings.Tenants.BillingWeights.GetValueOrDefault(run.Model, 1.0);
            points.Add((to, Math.Max(0, left)));
        }
        return points;
    }

    /// <summary>The page's main part: the facts, the chart, and its figures as a table.</summary>
    public static Html Main(FleetSnapshot.GrantView grant, IReadOnlyList<(DateTimeOffset At, double LeftGpuHours)> points)
    {
        var period = (grant.End - grant.Start).TotalSeconds;
        double X(DateTimeOffset at) => Left + Math.Clamp((at - grant.Start).TotalSeconds / period, 0, 1) * (Width - Left - Right);
        double Y(double hours) => Top + (1 - Math.Clamp(grant.GpuHours <= 0 ? 0 : hours / grant.GpuHours, 0, 1)) * (Height - Top - Bottom);
        var line = new StringBuilder();
        foreach (var (at, left) in points) line.Append(CultureInfo.InvariantCulture, $"{X(at):0.#},{Y(left):0.#} ");
        var last = points[^1];
        var planNow = grant.GpuHours * (1 - Math.Clamp((last.At - grant.Start).TotalSeconds / period, 0, 1));
        var pace = last.LeftGpuHours < planNow
            ? $"{DashboardFormat.One(planNow - last.LeftGpuHours)} GPU-hours ahead of a steady burn (charged faster than plan)"
            : $"{DashboardFormat.One(last.LeftGpuHours - planNow)} GPU-hours behind a steady burn (charged slower than plan)";
        var words = $"GPU-hours left of {DashboardFormat.One(grant.GpuHours)}: {DashboardFormat.One(last.LeftGpuHours)} on {DashboardFormat.Time(last.At)}; {pace}";
        var chart = Html.Of($"""
            <svg class="chart" viewBox="0 0 {Width} {Height}" width="{Width}" height="{Height}" role="img" aria-label="{words}"><title>{words}</title>
              <line class="axis" x1="{Left}" y1="{Height - Bottom}" x2="{Width - Right}" y2="{Height - Bottom}"/><line class="axis" x1="{Left}" y1="{Top}" x2="{Left}" y2="{Height - Bottom}"/>
              <text x="{Left - 6}" y="{Top + 4}" text-anchor="end">{DashboardFormat.Count(grant.GpuHours)}</text><text x="{Left - 6}" y="{Height - Bottom + 4}" text-anchor="end">0</text>
              <text x="{Left}" y="{Height - Bottom + 18}">{grant.Start.UtcDateTime:yyyy-MM-dd}</text><text x="{Width - Right}" y="{Height - Bottom + 18}" text-anchor="end">{grant.End.UtcDateTime:yyyy-MM-dd}</text>
              <text x="{(Left + Width - Right) / 2}" y="{Height - 6}" text-anchor="middle">GPU-hours left over the grant's period (dashed: a steady burn)</text>
              <line class="plan" x1="{X(grant.Start):0.#}" y1="{Y(grant.GpuHours):0.#}" x2="{X(grant.End):0.#}" y2="{Y(0):0.#}"/>
              <polyline points="{line.ToString().TrimEnd()}"/>
            </svg>
            """);
        var rows = Html.Join(points.Select(p => Html.Of($"""<tr><th scope="row">{DashboardFormat.Time(p.At)}</th><td class="num" data-label="Left">{DashboardFormat.One(p.LeftGpuHours)}</td><td class="num" data-label="Charged">{DashboardFormat.One(grant.GpuHours - p.LeftGpuHours)}</td></tr>""")));
        return Html.Of($"""
            <dl class="facts">
              <dt>Project</dt><dd>{grant.Tenant}</dd><dt>Grant</dt><dd>{grant.Grant}: {DashboardFormat.One(grant.GpuHours)} GPU-hours, {DashboardFormat.Time(grant.Start)} – {DashboardFormat.Time(grant.End)}; then {grant.WhenExhausted}</dd>
              <dt>Charged (scheduler)</dt><dd>{DashboardFormat.One(grant.UsedGpuHours)} GPU-hours, {DashboardFormat.One(grant.LeftGpuHours)} left</dd>
              <dt>Pace</dt><dd>{pace}</dd>
            </dl>
            <h2>Burn-down</h2>
            <div class="scroll" role="region" aria-label="Burn-down chart" tabindex="0">{chart}</div>
            <details><summary>The chart's figures</summary>
            <div class="scroll" role="region" aria-label="Burn-down figures" tabindex="0">
            <table class="cards"><caption>GPU-hours left, from the job history (billing weights applied)</caption>
              <thead><tr><th scope="col">At</th><th scope="col" class="num">Left</th><th scope="col" class="num">Charged</th></tr></thead>
              <tbody>{rows}</tbody></table>
            </div></details>
            <p><a href="/tenants">Back to the tenants</a></p>
            """);
    }
}
