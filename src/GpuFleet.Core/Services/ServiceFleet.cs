using System.Globalization;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Services;

/// <summary>
/// Inference services run as jobs: each replica of a service is a job of the service's shape, submitted to
/// the <see cref="FleetScheduler"/> when the service scales up and ended when it scales down. It keeps the
/// services and their replicas, and does no I/O and reads no clock: the caller says when a service's
/// request rate changes (<see cref="Scale"/>) and shows it each cycle's decisions (<see cref="Observe"/>),
/// so the live service and the twin scale alike.
/// <para>A replica is an ordinary job to the scheduler: it waits, is placed, and may be evicted like any
/// job — by reclaim when its tenant runs beyond its guarantee, or by a higher class of its own tenant.
/// It preempts only through the same rules: a replica within its tenant's guarantee reclaims lent GPUs,
/// and a replica of a higher class (say <c>production</c>) preempts its own tenant's preemptible
/// training, never another tenant's. An evicted replica queues again and counts as pending here.</para>
/// <para>Scaling down ends waiting replicas first (the newest first), then the newest placed ones: their
/// GPUs are free at once. Replicas never time out (<see cref="ReplicaTimeLimitSeconds"/>).</para>
/// <para>Replica job ids are <see cref="FirstReplicaId"/> (2^62) and up, in submission order: a trace's or
/// the API's job ids stay below.</para>
/// <para>Example: service <c>chat</c>, 120 requests/s per replica at target 0.7, min 1, max 10, 1 GPU each.
/// At 500 requests/s it wants ⌈500 / 84⌉ = 6 replicas: six jobs are submitted. At 100 requests/s it wants 2:
/// the four waiting or newest are ended.</para>
/// </summary>
public sealed class ServiceFleet
{
    /// <summary>The first replica job id (2^62); every replica's id is at least this, and no other job's should be.</summary>
    public const long FirstReplicaId = 1L << 62;

    /// <summary>A replica's time limit: about 35,000 years, so that it never binds, yet far from overflowing when added to a time.</summary>
    public const long ReplicaTimeLimitSeconds = 1L << 40;

    private readonly FleetScheduler _scheduler;
    private readonly ServiceSpec[] _specs;
    private readonly string[]?[] _sites;
    private readonly bool[][] _edge;
    private readonly List<Replica>[] _replicas;
    private readonly double[] _rates;
    private readonly int[] _desired;
    private readonly Dictionary<long, Replica> _byId = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private long _nextId = FirstReplicaId;

    /// <summary>Whether a job id is in the range of replica ids.</summary>
    public static bool IsReplicaId(long jobId) => jobId >= FirstReplicaId;

    /// <summary>
    /// Services on <paramref name="scheduler"/>'s fleet, none of them yet scaled (no replicas until
    /// <see cref="Scale"/>). Each is checked as its replicas would be submitted.
    /// </summary>
    /// <exception cref="ServiceValidationException">A service's numbers are unusable, its name repeats, its region has no site, no site is within its latency budget, or its replicas could never run.</exception>
    public ServiceFleet(FleetScheduler scheduler, IReadOnlyList<ServiceSpec> services)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(services);
        _scheduler = scheduler;
        _specs = [.. services];
        _sites = new string[]?[_specs.Length];
        _edge = new bool[_specs.Length][];
        _replicas = new List<Replica>[_specs.Length];
        _rates = new double[_specs.Length];
        _desired = new int[_specs.Length];
        var fleet = scheduler.Fleet;
        for (var i = 0; i < _specs.Length; i++)
        {
            var spec = _specs[i] ?? throw new ArgumentException($"services[{i}] is null", nameof(services));
            if (ServiceScaler.Problem(spec) is { } problem) throw new ServiceValidationException(i, problem.Field, problem.Problem);
            if (!_index.TryAdd(spec.Name, i)) throw new ServiceValidationException(i, "name", $"duplicate service '{spec.Name}'");
            _edge[i] = [.. fleet.Sites.Select(s => spec.Region is not null && s.Region == spec.Region)];
            _sites[i] = SitesFor(fleet, spec, i);
            _replicas[i] = [];
            var check = scheduler.Check(ReplicaSpec(i, _nextId, 0));
            if (!check.Accepted) throw new ServiceValidationException(i, "replica", check.Error ?? "refused by the scheduler");
        }
    }

    /// <summary>The services, in the order given; a service's position is its index here.</summary>
    public IReadOnlyList<ServiceSpec> Services => _specs;

    /// <summary>Position of a service by name, or -1.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out var i) ? i : -1;

    /// <summary>
    /// Sites a replica of service <paramref name="service"/> may run at, most preferred first: the sites of its
    /// region ("edge"), then the other sites within its latency budget, nearest first (fleet order among equals);
    /// null for a service without a region (any site).
    /// </summary>
    public IReadOnlyList<string>? Sites(int service) => _sites[service];

    /// <summary>Whether <paramref name="site"/> (a fleet site index) is in service <paramref name="service"/>'s region: a replica elsewhere has spilled.</summary>
    public bool IsEdge(int service, int site) => _edge[service][site];

    /// <summary>Request rate last given for the service (0 before any).</summary>
    public double Rate(int service) => _rates[service];

    /// <summary>Replicas the service wants at its last rate (0 before any <see cref="Scale"/>).</summary>
    public int Desired(int service) => _desired[service];

    /// <summary>Replicas of the service that are placed (holding GPUs, perhaps still starting).</summary>
    public int Placed(int service) => _replicas[service].Count(r => r.Placed);

    /// <summary>Replicas of the service that wait to be placed (new, or evicted and queued again).</summary>
    public int Pending(int service) => _replicas[service].Count(r => !r.Placed);

    /// <summary>The service a replica belongs to, or -1 for a job that is no replica held here.</summary>
    public int ServiceOf(long jobId) => _byId.TryGetValue(jobId, out var r) ? r.Service : -1;

    /// <summary>Ids of the placed replicas of every service, in id order.</summary>
    public IReadOnlyList<long> PlacedReplicas() => [.. _byId.Values.Where(r => r.Placed).Select(r => r.Id).Order()];

    /// <summary>
    /// Service <paramref name="service"/> now receives <paramref name="requestsPerSecond"/>: it wants
    /// <see cref="ServiceScaler.DesiredReplicas"/> replicas, and as many are submitted or ended at once.
    /// Returns what was done, already applied to the scheduler.
    /// </summary>
    public IReadOnlyList<ReplicaChange> Scale(int service, double requestsPerSecond, long now)
    {
        _rates[service] = double.IsFinite(requestsPerSecond) && requestsPerSecond > 0 ? requestsPerSecond : 0;
        _desired[service] = ServiceScaler.DesiredReplicas(_specs[service], requestsPerSecond);
        return Reconcile(service, _desired[service], now);
    }

    /// <summary>Ends every replica of every service (the services are deleted, or the run is over).</summary>
    public IReadOnlyList<ReplicaChange> StopAll(long now)
    {
        var changes = new List<ReplicaChange>();
        for (var s = 0; s < _specs.Length; s++)
        {
            _desired[s] = 0;
            changes.AddRange(Reconcile(s, 0, now));
        }
        return changes;
    }

    /// <summary>Takes note of a cycle's decisions: replicas placed hold GPUs; replicas evicted wait again.</summary>
    public void Observe(CycleResult cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        foreach (var p in cycle.Preemptions)
            if (_byId.TryGetValue(p.VictimJobId, out var victim)) victim.Placed = false;
        foreach (var p in cycle.Placements)
        {
            if (!_byId.TryGetValue(p.JobId, out var replica)) continue;
            replica.Placed = true;
            replica.PlacedAt = cycle.Time;
            replica.Site = p.Site;
        }
    }

    /// <summary>A placed replica's run was lost (its node failed): it is queued again (<see cref="FleetScheduler.Requeue"/>) and waits. False for a job that is no placed replica here.</summary>
    public bool Requeue(long jobId, long now)
    {
        if (!_byId.TryGetValue(jobId, out var replica) || !replica.Placed || !_scheduler.Requeue(jobId, now)) return false;
        replica.Placed = false;
        return true;
    }

    /// <summary>Site of a placed replica (a fleet site index), or -1.</summary>
    public int SiteOf(long jobId) => _byId.TryGetValue(jobId, out var r) && r.Placed ? r.Site : -1;

    private List<ReplicaChange> Reconcile(int service, int desired, long now)
    {
        var changes = new List<ReplicaChange>();
        var replicas = _replicas[service];
        while (replicas.Count < desired)
        {
            var id = _nextId;
            var result = _scheduler.Submit(ReplicaSpec(service, id, now));
            if (!result.Accepted)
            {
                changes.Add(new ReplicaChange(service, id, ReplicaChangeKind.Rejected, now) { Error = result.Error });
                break;
            }
            _nextId++;
            var replica = new Replica(id, service, now);
            replicas.Add(replica);
            _byId.Add(id, replica);
            changes.Add(new ReplicaChange(service, id, ReplicaChangeKind.Submitted, now));
        }
        while (replicas.Count > desired)
        {
            var victim = Newest(replicas, placed: false) ?? Newest(replicas, placed: true)!;
            if (!_scheduler.End(victim.Id, now)) throw new InvalidOperationException($"replica {victim.Id} of service '{_specs[service].Name}' is not held by the scheduler");
            replicas.Remove(victim);
            _byId.Remove(victim.Id);
            changes.Add(new ReplicaChange(service, victim.Id, ReplicaChangeKind.Ended, now) { WasPlaced = victim.Placed });
        }
        return changes;
    }

    // The waiting replica submitted last, or the placed replica placed last (ties: the higher id).
    private static Replica? Newest(List<Replica> replicas, bool placed)
    {
        Replica? best = null;
        foreach (var r in replicas)
        {
            if (r.Placed != placed) continue;
            var (at, bestAt) = placed ? (r.PlacedAt, best?.PlacedAt) : (r.SubmittedAt, best?.SubmittedAt);
            if (best is null || at > bestAt || (at == bestAt && r.Id > best.Id)) best = r;
        }
        return best;
    }

    private JobSpec ReplicaSpec(int service, long id, long now)
    {
        var s = _specs[service];
        return new JobSpec(id, s.Tenant, s.GpusPerReplica, s.Models, TopologyNeed.Node, ReplicaTimeLimitSeconds, 0, now)
        {
            PriorityClass = s.PriorityClass,
            Slice = s.Slice,
            CpusPerGpu = s.CpusPerGpu,
            MemoryGbPerGpu = s.MemoryGbPerGpu,
            Sites = _sites[service],
        };
    }

    /// <summary>The sites of the region first, then the others within the budget by latency from the region; null without a region.</summary>
    private static string[]? SitesFor(Fleet fleet, ServiceSpec spec, int index)
    {
        if (spec.Region is not { } region) return null;
        if (!fleet.Sites.Any(s => s.Region == region))
            throw new ServiceValidationException(index, "region", $"no site of the fleet is in region '{region}' (regions: {string.Join(", ", fleet.Sites.Select(s => s.Region).Distinct())})");
        var budget = spec.LatencyBudgetMs ?? double.PositiveInfinity;
        var sites = Enumerable.Range(0, fleet.Sites.Count)
            .Select(s => (Site: s, Latency: fleet.RegionLatencyMs(region, s)))
            .Where(x => x.Latency <= budget)
            .OrderBy(x => x.Latency).ThenBy(x => x.Site)
            .Select(x => fleet.Sites[x.Site].Name).ToArray();
        // The region's own sites are at 0 ms and within any budget: the list is never empty.
        return sites.Length > 0 ? sites
            : throw new ServiceValidationException(index, "latencyBudgetMs", string.Create(CultureInfo.InvariantCulture, $"no site is within {budget} ms of region '{region}'"));
    }

    private sealed class Replica(long id, int service, long submittedAt)
    {
        public long Id { get; } = id;
        public int Service { get; } = service;
        public long SubmittedAt { get; } = submittedAt;
        public bool Placed { get; set; }
        public long PlacedAt { get; set; }
        public int Site { get; set; } = -1;
    }
}
