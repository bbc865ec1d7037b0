namespace GpuFleet.Server.Storage;

/// <summary>
/// What drives a stored service's replica count, and changes while it lives (its spec does not): what the
/// leader reads of each service every cycle, without its spec and decisions to parse.
/// </summary>
/// <param name="Id">The service row's id.</param>
/// <param name="RequestsPerSecond">The request rate last reported or scraped.</param>
/// <param name="RateAt">When that rate was set; null before any.</param>
/// <param name="PinnedReplicas">A manual replica count that overrides the rate; null: scaled by its rate.</param>
/// <param name="ScrapedAt">When its rate was last scraped; null before any.</param>
/// <param name="ScrapeError">Why the last scrape failed; null when it worked.</param>
public sealed record ServiceDrive(long Id, double RequestsPerSecond, DateTimeOffset? RateAt, int? PinnedReplicas, DateTimeOffset? ScrapedAt, string? ScrapeError);
