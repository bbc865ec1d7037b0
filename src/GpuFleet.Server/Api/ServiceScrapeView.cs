namespace GpuFleet.Server.Api;

/// <summary>The latest scrape of a service's Prometheus query: when, and why it failed (null: it worked; the rate shown is what it read).</summary>
public sealed record ServiceScrapeView(DateTimeOffset? At, string? Error);
