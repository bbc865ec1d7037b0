using GpuFleet.Core.Services;

namespace GpuFleet.Server.Storage;

/// <summary>An inference service as the database holds it: its spec and what drives its replica count.</summary>
/// <param name="Id">Its row's id: a service deleted and created again under the same name has another.</param>
/// <param name="Spec">The service (name, tenant, replica shape, bounds).</param>
/// <param name="PrometheusQueryUrl">Where the leader scrapes its request rate; null: the rate is reported (<c>POST …/load</c>).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RequestsPerSecond">The request rate last reported or scraped (0 before any).</param>
/// <param name="RateAt">When that rate was set; null before any.</param>
/// <param name="PinnedReplicas">A manual replica count that overrides the rate (<c>POST …/scale</c>); null: scaled by its rate.</param>
/// <param name="ScrapedAt">When its rate was last scraped (or the scrape failed); null before any.</param>
/// <param name="ScrapeError">Why the last scrape failed; null when it worked (or none was made).</param>
/// <param name="Decisions">The leader's latest scale decisions, newest last.</param>
public sealed record StoredService(long Id, ServiceSpec Spec, string? PrometheusQueryUrl, DateTimeOffset CreatedAt, double RequestsPerSecond,
    DateTimeOffset? RateAt, int? PinnedReplicas, DateTimeOffset? ScrapedAt, string? ScrapeError, IReadOnlyList<ServiceDecision> Decisions)
{
    /// <summary>Its name.</summary>
    public string Name => Spec.Name;

    /// <summary>Its tenant.</summary>
    public string Tenant => Spec.Tenant;

    /// <summary>The same service with what drives it now (read again each cycle).</summary>
    public StoredService DrivenBy(ServiceDrive drive) => this with
    {
        RequestsPerSecond = drive.RequestsPerSecond, RateAt = drive.RateAt, PinnedReplicas = drive.PinnedReplicas,
        ScrapedAt = drive.ScrapedAt, ScrapeError = drive.ScrapeError,
    };

    /// <summary>Replicas it should run: the pinned count, else what its rate needs (<see cref="ServiceScaler.DesiredReplicas"/>).</summary>
    public int DesiredReplicas => PinnedReplicas ?? ServiceScaler.DesiredReplicas(Spec, RequestsPerSecond);
}
