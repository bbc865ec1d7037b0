using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// One pool zoomed in: a grid of its NVLink domains, each coloured by the share of its GPUs that are
/// busy (five steps), with the counts behind the colours in a table. Example: a GB200 pool of 278
/// NVL72 domains draws 278 cells; a domain with 64 of its 72 GPUs busy (89%) is in the darkest step,
/// one with 2 GPUs out of service and none busy is marked as partly out of service. Only the replica
/// that schedules holds the core's per-node state; the others say so.
/// </summary>
internal static class PoolPage
{
    private static readonly string[] Steps = ["idle", "1–24% busy", "25–49% busy", "50–74% busy", "75–100% busy"];

    /// <summary>The page's main part for the pools of <paramref name="model"/> at <paramref name="site"/>; null domains: not known on this replica.</summary>
    public static Html Main(string site, string model, IReadOnlyList<(FleetSnapshot.PoolView Pool, IReadOnlyList<DomainUse>? Domains)> pools, DateTimeOffset at)
    {
        var parts = Html.Join(pools.Select((p, k) =>
        {
            if (p.Domains is null)
                return Html.Of($"<p>Node by node use is known only to the replica that schedules; this one shows its counts: {DashboardFormat.Count(p.Pool.BusyGpus)} of {DashboardFormat.Count(p.Pool.Gpus)} GPUs busy.</p>");
            var counts = new int[Steps.Length];
            var cells = Html.Join(p.Domains.Select(d =>
            {
                var step = Step(d);
                counts[step]++;
                var words = $"{d.FirstNode}{(d.LastNode == d.FirstNode ? "" : $"–{d.LastNode}")}: {d.BusyGpus} of {d.Gpus} GPUs busy{(d.OutOfServiceGpus > 0 ? $", {d.OutOfServiceGpus} out of service" : "")}";
                return Html.Of($"<span class=\"cell u{step}{(d.OutOfServiceGpus > 0 ? " out" : "")}\" title=\"{words}\"></span>");
            }));
            var legend = Html.Join(Steps.Select((name, i) => Html.Of($"""<tr><th scope="row"><span class="cell u{i}"></span> {name}</th><td class="num" data-label="Domains">{DashboardFormat.Count(counts[i])}</td></tr>""")));
            var outDomains = p.Domains.Count(d => d.OutOfServiceGpus > 0);
            return Html.Of($"""
                <h2>{(pools.Count > 1 ? $"Pool {k + 1}: " : "")}{DashboardFormat.Count(p.Pool.Gpus)} GPUs in {DashboardFormat.Count(p.Domains.Count)} NVLink domains</h2>
                <div class="grid" role="img" aria-label="{p.Domains.Count} NVLink domains coloured by busy share; the counts per colour follow in a table">{cells}</div>
                <div class="scroll" role="region" aria-label="Domains by busy share" tabindex="0">
                <table class="legend"><caption>Domains by busy share ({DashboardFormat.Count(p.Pool.BusyGpus)} of {DashboardFormat.Count(p.Pool.Gpus)} GPUs busy; {outDomains} domains with GPUs out of service, outlined)</caption>
                  <thead><tr><th scope="col">Colour</th><th scope="col" class="num">Domains</th></tr></thead><tbody>{legend}</tbody></table>
                </div>
                """);
        }));
        return Html.Of($"""
            <p class="muted">{site} · {model}, as of {DashboardFormat.Time(at)}. Each cell is one NVLink domain; hover a cell for its nodes and counts.</p>
            {parts}
            <p><a href="/fleet">Back to the fleet</a></p>
            """);
    }

    private static int Step(DomainUse d)
    {
        var usable = d.Gpus;
        if (d.BusyGpus == 0 || usable <= 0) return 0;
        var share = (double)d.BusyGpus / usable;
        return share < 0.25 ? 1 : share < 0.5 ? 2 : share < 0.75 ? 3 : 4;
    }
}
