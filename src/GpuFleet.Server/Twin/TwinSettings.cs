namespace GpuFleet.Server.Twin;

/// <summary>
/// What the server's twin runs (the dashboard's Twin page and <c>/api/v1/twin</c>) may use and how many
/// may run: where the fleets, tenant trees and sample traces lie, and the bounds that keep what-if
/// simulations from crowding out the live scheduler or the server's memory.
/// </summary>
public sealed record TwinSettings
{
    /// <summary>
    /// A directory holding <c>fleets/*.yaml</c>, <c>tenants/*.yaml</c> and <c>traces/*.csv[.gz]</c> (the
    /// repository's own layout), or null: no fleet to choose, and no run can start.
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>Most runs queued or running at once, all users together (more: 429).</summary>
    public int MaxActiveRuns { get; init; } = DefaultMaxActiveRuns;

    /// <summary>Default of <see cref="MaxActiveRuns"/>.</summary>
    public const int DefaultMaxActiveRuns = 8;

    /// <summary>Most runs one token may have queued or running at once (more: 429).</summary>
    public int MaxActiveRunsPerToken { get; init; } = DefaultMaxActiveRunsPerToken;

    /// <summary>Default of <see cref="MaxActiveRunsPerToken"/>.</summary>
    public const int DefaultMaxActiveRunsPerToken = 2;

    /// <summary>Most runs one tenant's tokens together may have queued or running at once (more: 429); admins' runs are not a tenant's.</summary>
    public int MaxActiveRunsPerTenant { get; init; } = DefaultMaxActiveRunsPerTenant;

    /// <summary>Default of <see cref="MaxActiveRunsPerTenant"/>.</summary>
    public const int DefaultMaxActiveRunsPerTenant = 4;

    /// <summary>Longest stretch an uploaded trace's jobs may cover, from the first submission to the last, and longest time limit or runtime of one of its jobs.</summary>
    public TimeSpan MaxUploadedSpan { get; init; } = TimeSpan.FromDays(366);

    /// <summary>Most finished runs kept with their reports and charts; the oldest go first.</summary>
    public int MaxFinishedRuns { get; init; } = 32;

    /// <summary>How long a finished run is kept at most.</summary>
    public TimeSpan KeepFinishedFor { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Largest trace file that may be uploaded, in bytes (the file itself; plain or gzip).</summary>
    public long MaxUploadBytes { get; init; } = 20L * 1024 * 1024;

    /// <summary>Most jobs an uploaded or generated trace may hold (a generated one: on average).</summary>
    public int MaxJobs { get; init; } = 500_000;

    /// <summary>Longest generated workload, in days.</summary>
    public double MaxGeneratedDays { get; init; } = 365;

    /// <summary>Highest offered load of a generated workload (GPU-time asked for over GPU-time the fleet has).</summary>
    public double MaxGeneratedLoad { get; init; } = 10;

    /// <summary>Length of one time-series sample of a run (as <c>simulate --sample-seconds</c>).</summary>
    public long SampleIntervalSeconds { get; init; } = 3_600;
}
