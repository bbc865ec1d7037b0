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
/// <para>A service with <see cref="ServiceSpec.StandbyReplicas"/> holds that many replicas more than its rate
/// needs: at 500 requests/s <c>chat</c> above with 2 standby holds 8 replicas, 6 serving. When the rate asks for a
/// seventh, one of the 8 already running serves at once, and a ninth is submitted to stand by.</para>
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
    // Lists, not arrays: a live fleet adds services as they are created (Add); a removed service keeps its position.
    private readonly List<ServiceSpec> _specs;
    private readonly List<string[]?> _sites = [];
    private readonly List<bool[]> _edge = [];
    private readonly List<List<Replica>> _replicas = [];
    private readonly List<double> _rates = [];
    private readonly List<int> _desired = [];
    private readonly List<bool> _removed = [];
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
        _specs = new List<ServiceSpec>(services.Count);
        for (var i = 0; i < services.Count; i++)
            AddChecked(services[i] ?? throw new ArgumentException($"services[{i}] is null", nameof(services)), i);
    }

    /// <summary>
    /// Adds a service (a live fleet's services come and go), not yet scaled, checked as the constructor
    /// checks each; answers its position. Its name must not be that of a service held (a removed one's may be reused).
    /// </summary>
    /// <exception cref="ServiceValidationException">As for the constructor; its index is the position the service would have had.</exception>
    public int Add(ServiceSpec service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return AddChecked(service, _specs.Count);
    }

    private int AddChecked(ServiceSpec spec, int i)
    {
        if (ServiceScaler.Problem(spec) is { } problem) throw new ServiceValidationException(i, problem.Field, problem.Problem);
        if (_index.ContainsKey(spec.Name)) throw new ServiceValidationException(i, "name", $"duplicate service '{spec.Name}'");
        var fleet = _scheduler.Fleet;
        var sites = SitesFor(fleet, spec, i);
        var check = _scheduler.Check(ReplicaSpec(spec, sites, _nextId, 0));
        if (!check.Accepted) throw new ServiceValidationException(i, "replica", check.Error ?? "refused by the scheduler");
        _index.Add(spec.Name, i);
        _specs.Add(spec);
        _edge.Add([.. fleet.Sites.Select(s => spec.Region is not null && s.Region == spec.Region)]);
        _sites.Add(sites);
        _replicas.Add([]);
        _rates.Add(0);
        _desired.Add(0);
        _removed.Add(false);
        return i;
    }

    /// <summary>
    /// Removes a service: every replica of it is ended (as <see cref="StopAll"/> ends them), and its name is free again.
    /// It keeps its position (and its entry in <see cref="Services"/>), so that the positions of the others do not move.
    /// </summary>
    public IReadOnlyList<ReplicaChange> Remove(int service, long now)
    {
        if (_removed[service]) return [];
        _desired[service] = 0;
        var changes = Reconcile(service, 0, now);
        _removed[service] = true;
        _index.Remove(_specs[service].Name);
        return changes;
    }

    /// <summary>Whether the service was removed (<see cref="Remove"/>).</summary>
    public bool IsRemoved(int service) => _removed[service];

    /// <summary>
    /// Service <paramref name="service"/> runs <paramref name="replicas"/> replicas whatever its rate (a manual
    /// override; 0 up to its maximum): as many are submitted or ended at once. Its rate is kept as it was.
    /// </summary>
    public IReadOnlyList<ReplicaChange> ScaleTo(int service, int replicas, long now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replicas, _specs[service].MaxReplicas);
        _desired[service] = replicas;
        return Reconcile(service, replicas, now);
    }

    /// <summary>
    /// Takes up a replica that already exists (a new leader rebuilds its services from its store): it is
    /// submitted to the scheduler with its own id and submit time, and waits. Later replicas get ids above
    /// it. Answers the scheduler's answer; a refused replica is not held.
    /// </summary>
    public SubmitResult Restore(int service, long jobId, long submittedAt)
    {
        var result = _scheduler.Submit(ReplicaSpec(service, jobId, submittedAt));
        if (!result.Accepted) return result;
        Hold(new Replica(jobId, service, submittedAt));
        return result;
    }

    // A replica taken up by a new leader (Restore, Adopt): held under its own id, and later ids go above it.
    private void Hold(Replica replica)
    {
        _replicas[replica.Service].Add(replica);
        _byId.Add(replica.Id, replica);
        if (IsReplicaId(replica.Id)) SkipIdsTo(replica.Id);
    }

    /// <summary>
    /// Takes up a replica that runs on a cluster (a new leader rebuilding its services while the replica's run
    /// survived the old one): adopted by the scheduler on exactly its GPUs (<paramref name="gpus"/>) or, for a
    /// service of slices, its slices (<paramref name="slices"/>), running since <paramref name="startedAt"/>, and
    /// held here as placed. Answers the scheduler's answer; a refused replica is not held (it may be restored as waiting).
    /// </summary>
    public SubmitResult Adopt(int service, long jobId, long submittedAt, IReadOnlyList<GpuAllocation> gpus, IReadOnlyList<SlicePlacement>? slices, long startedAt)
    {
        ArgumentNullException.ThrowIfNull(gpus);
        var spec = ReplicaSpec(service, jobId, submittedAt);
        var result = slices is null ? _scheduler.Adopt(spec, gpus, startedAt) : _scheduler.Adopt(spec, slices, startedAt);
        if (!result.Accepted) return result;
        var node = slices is null ? gpus[0].Node : slices[0].Node;
        Hold(new Replica(jobId, service, submittedAt) { Placed = true, PlacedAt = startedAt, Site = _scheduler.Fleet.PoolSite(_scheduler.Fleet.NodePool(node)) });
        return result;
    }

    /// <summary>
    /// Where new replicas' job ids come from; null (the default): <see cref="FirstReplicaId"/> and up, in
    /// submission order. A store that keeps replicas among its other jobs draws them from its own sequence
    /// instead, so that one id names one job there. Asked once per replica submitted (a refused one's id is not used again).
    /// </summary>
    public Func<long>? ReplicaIds { get; set; }

    /// <summary>The next replica's id is above <paramref name="jobId"/> (a replica id used before, perhaps by a replica long ended).</summary>
    public void SkipIdsTo(long jobId)
    {
        if (jobId >= _nextId) _nextId = jobId + 1;
    }

    /// <summary>
    /// A replica ended outside this fleet (its run ended, or it was cancelled by hand; the scheduler no longer
    /// holds it): it is dropped, and the next <see cref="Scale"/> or <see cref="ScaleTo"/> of its service replaces it.
    /// False for a job that is no replica held here.
    /// </summary>
    public bool Forget(long jobId)
    {
        if (!_byId.Remove(jobId, out var replica)) return false;
        _replicas[replica.Service].Remove(replica);
        return true;
    }

    /// <summary>Replicas of the service held now, placed or waiting.</summary>
    public int Held(int service) => _replicas[service].Count;

    /// <summary>Replicas the service holds when its rate wants <paramref name="desired"/> (<see cref="Scale"/>): those and its standby replicas.</summary>
    public int HeldFor(int service, int desired) => desired + _specs[service].StandbyReplicas;

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
        // Standby replicas on top: held (placed once GPUs allow) and serving nothing until the rate needs them.
        return Reconcile(service, HeldFor(service, _desired[service]), now);
    }

    /// <summary>Ends every replica of every service (the services are deleted, or the run is over).</summary>
    public IReadOnlyList<ReplicaChange> StopAll(long now)
    {
        var changes = new List<ReplicaChange>();
        for (var s = 0; s < _specs.Count; s++)
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
            var id = ReplicaIds?.Invoke() ?? _nextId;
            var result = _scheduler.Submit(ReplicaSpec(service, id, now));
            if (!result.Accepted)
            {
                changes.Add(new ReplicaChange(service, id, ReplicaChangeKind.Rejected, now) { Error = result.Error });
                break;
            }
            if (ReplicaIds is null) _nextId++;
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

    private JobSpec ReplicaSpec(int service, long id, long now) => ReplicaSpec(_specs[service], _sites[service], id, now);

    private static JobSpec ReplicaSpec(ServiceSpec s, string[]? sites, long id, long now)
    {
        return new JobSpec(id, s.Tenant, s.GpusPerReplica, s.Models, TopologyNeed.Node, ReplicaTimeLimitSeconds, 0, now)
        {
            PriorityClass = s.PriorityClass,
            Slice = s.Slice,
            CpusPerGpu = s.CpusPerGpu,
            MemoryGbPerGpu = s.MemoryGbPerGpu,
            Sites = sites,
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
