using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Hosting;

/// <summary>What <c>gpufleet serve</c> runs with.</summary>
public sealed record ServerSettings
{
    /// <summary>The fleet scheduled.</summary>
    public required Fleet Fleet { get; init; }
    /// <summary>
    /// Every setting of the scheduling core — policy, tenant tree, backfill window, fair-share
    /// half-life, large gangs, preemption limits — exactly as <c>gpufleet simulate</c> passes them to
    /// the twin, so that the live service decides as the twin does.
    /// </summary>
    public SchedulerOptions Scheduling { get; init; } = new() { Policy = SchedulingPolicy.FairShare };
    /// <summary>Tenant tree (empty: any tenant name is accepted and shares by fair share).</summary>
    public TenantTree Tenants => Scheduling.Tenants;
    /// <summary>The policy; needs a tree when it has quotas.</summary>
    public SchedulingPolicy Policy => Scheduling.Policy;
    /// <summary>The database: an SQLite file path, or a PostgreSQL connection string (<c>Host=…</c>) or URI (<c>postgresql://…</c>).</summary>
    public required string Database { get; init; }
    /// <summary>
    /// Time zero of the scheduler's clock: tenant-file times (grant periods) count from here. The Unix
    /// epoch by default, so that grant dates (<c>start: 2027-01-01</c>) mean what they say; the demo
    /// uses its own start, so that relative grants (<c>start: 0d, end: 30d</c>) begin with it.
    /// </summary>
    public DateTimeOffset ClockOrigin { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>A wall-clock time on the scheduler's clock.</summary>
    public long ToClock(DateTimeOffset at) => (long)Math.Floor((at - ClockOrigin).TotalSeconds);

    /// <summary>A time on the scheduler's clock as wall-clock time.</summary>
    public DateTimeOffset FromClock(long seconds) => ClockOrigin.AddSeconds(Math.Min(seconds, (long)(DateTimeOffset.MaxValue - ClockOrigin).TotalSeconds - 1));

    /// <summary>Time between scheduling cycles.</summary>
    public TimeSpan CycleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the leader scrapes a service's Prometheus query for its request rate.</summary>
    public TimeSpan ServiceScrapeInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a scrape of a service's Prometheus query may take before it counts as failed (the rate is kept).</summary>
    public TimeSpan ServiceScrapeTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>The simulated executor runs jobs this many times faster than their run time.</summary>
    public double TimeScale { get; init; } = 1;
    /// <summary>The bootstrap admin token (from <c>GPUFLEET_ADMIN_TOKEN</c>); stored hashed on start.</summary>
    public string? AdminToken { get; init; }
    /// <summary>Requests a token may make per minute (more: 429).</summary>
    public int RequestsPerMinutePerToken { get; init; } = DefaultRequestsPerMinutePerToken;
    /// <summary>Default of <see cref="RequestsPerMinutePerToken"/>.</summary>
    public const int DefaultRequestsPerMinutePerToken = 6_000;
    /// <summary>
    /// Requests without a valid token (<c>/metrics</c>, <c>/openapi</c>) one client address may make per
    /// minute (more: 429). <c>/healthz</c> is never limited.
    /// </summary>
    public int RequestsPerMinutePerAddress { get; init; } = DefaultRequestsPerMinutePerAddress;
    /// <summary>Default of <see cref="RequestsPerMinutePerAddress"/>.</summary>
    public const int DefaultRequestsPerMinutePerAddress = 600;
    /// <summary>
    /// Failed authentications (401) one client address may make per minute; beyond, its <c>/api</c> calls
    /// are answered 429 without looking at the token until the minute is over.
    /// </summary>
    public int FailedAuthenticationsPerMinutePerAddress { get; init; } = DefaultFailedAuthenticationsPerMinutePerAddress;
    /// <summary>Default of <see cref="FailedAuthenticationsPerMinutePerAddress"/>.</summary>
    public const int DefaultFailedAuthenticationsPerMinutePerAddress = 30;
    /// <summary>
    /// Proxies whose <c>X-Forwarded-For</c> names the client (for the per-address limits). Empty: the
    /// header is ignored and the client is the connection's peer.
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; init; } = [];
    /// <summary>A trace to replay as background load (the demo), or null.</summary>
    public IReadOnlyList<GpuFleet.Core.Workloads.TraceJob>? Replay { get; init; }
    /// <summary>Replayed jobs ask for this many times their trace GPUs.</summary>
    public int ReplayGpuScale { get; init; } = 1;
    /// <summary>
    /// Where other replicas reach this one's API when it leads (to ask why a job waits). Null: the
    /// address the server listens on, which is right unless it listens on 0.0.0.0 or behind a proxy.
    /// </summary>
    public string? AdvertisedUrl { get; init; }
    /// <summary>
    /// How long the scheduler lease lasts unless its leader renews it (each cycle): a leader that stops
    /// renewing (frozen, cut off from the database) is replaced after this long. One that dies is replaced
    /// at once.
    /// </summary>
    public TimeSpan LeaseTime { get; init; } = JobStore.DefaultLeaseTime;
    /// <summary>Largest request body accepted (larger: 413).</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;
    /// <summary>
    /// Where jobs' output lies, one <c>&lt;id&gt;.log</c> each (<c>&lt;installation&gt;-&lt;id&gt;.log</c> for a named installation; the local executor's log directory), for
    /// <c>GET /api/v1/jobs/{id}/log</c>. Null: jobs have no log to show.
    /// </summary>
    public string? LogDirectory { get; init; }

    /// <summary>What twin runs (what-if simulations from the dashboard and <c>/api/v1/twin</c>) may use, and how many may run.</summary>
    public GpuFleet.Server.Twin.TwinSettings Twin { get; init; } = new();

    /// <summary>
    /// The name of this GpuFleet installation on the clusters it shares (<c>serve --installation</c>, else the fleet file's
    /// <c>installation</c>): its runs are named <c>gpufleet-&lt;installation&gt;-&lt;id&gt;</c>, and it observes, adopts and
    /// cancels only those. Null: <c>gpufleet-&lt;id&gt;</c>, the names of an installation without one.
    /// </summary>
    /// <exception cref="ArgumentException">Set to a name that is not an installation name (<see cref="InstallationName"/>).</exception>
    public string? Installation
    {
        get => field ?? Fleet.Installation;
        init => field = value is null || InstallationName.Problem(value) is not { } problem ? value : throw new ArgumentException($"installation: {problem}", nameof(value));
    }

    /// <summary>Where jobs' logs are read from: <see cref="LogDirectory"/>, else the log directory of the fleet's local site, if it has one.</summary>
    public string? JobLogDirectory => LogDirectory
        ?? Fleet.Sites.Select(s => s.Executor).FirstOrDefault(e => e.Kind == "local")?.Setting("logDirectory", Core.Fleets.SiteExecutorSpec.DefaultLocalLogDirectory);
}
