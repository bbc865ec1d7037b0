using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Hosting;

// The leader's part in inference services (docs/services.md): each cycle it reads what drives each service (its
// rate, pinned count and scrape; a new service whole), adds the new services to its ServiceFleet and removes the
// deleted ones, takes in finished scrapes of Prometheus queries and starts those that are due, and scales each
// service to its pinned count or its rate. The replica jobs ServiceFleet submits are stored as pending jobs of the
// service's tenant (ids from the job table's own sequence) before the cycle that places them; those it ends are
// cancelled as jobs are, and their runs stopped.
public sealed partial class LiveScheduler
{
    // One client for every scrape of this process: connections to a Prometheus are reused from scrape to scrape.
    private static readonly HttpClient ScrapeHttp = new() { Timeout = Timeout.InfiniteTimeSpan };

    private ServiceFleet _services = null!;
    // By the service row's id: a service deleted and created again under its name is another service.
    private readonly Dictionary<long, TrackedService> _tracked = [];
    private readonly Queue<long> _replicaIds = new();
    // Scrapes in flight and when each service was last scraped, by row id; they outlive a term (a scrape is harmless) but not the process.
    private readonly Dictionary<long, Task<(double? Rate, string? Error)>> _scrapes = [];
    private readonly Dictionary<long, DateTimeOffset> _scrapedAt = [];
    // Services this fleet refused (their refusal recorded), by row id: a spec does not change, so they are not read again this term.
    private readonly HashSet<long> _refused = [];

    private sealed class TrackedService(StoredService row, int index)
    {
        public StoredService Row { get; set; } = row;
        public int Index { get; } = index;
        // What it was last scaled to (-1: not yet), and the last refusal seen: decisions are recorded when either changes or replicas move.
        public int Applied { get; set; } = -1;
        public string? Refused { get; set; }
        public List<ServiceDecision> Decisions { get; } = [.. row.Decisions];
    }

    /// <summary>Scrapes of services' Prometheus queries still in flight (tests wait for them).</summary>
    internal Task ScrapesInFlight()
    {
        _gate.Wait();
        try
        {
            return Task.WhenAll(_scrapes.Values);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void ResetServices()
    {
        foreach (var t in _tracked.Values) ForgetMetrics(t.Row);
        _services = new ServiceFleet(_core, []) { ReplicaIds = NextReplicaId };
        _tracked.Clear();
        _refused.Clear();
        _replicaIds.Clear();
    }

    // A lost run queues again: a replica through its service (it then counts as waiting), any other job in the core.
    private bool RequeueRun(long jobId, long now) => _services.ServiceOf(jobId) >= 0 ? _services.Requeue(jobId, now) : _core.Requeue(jobId, now);

    private long NextReplicaId()
    {
        if (_replicaIds.Count == 0)
            foreach (var id in serviceStore.ReserveJobIds(1, _epoch)) _replicaIds.Enqueue(id);
        return _replicaIds.Dequeue();
    }

    // A replica of a service deleted while the scheduler changed hands, running at a site with a real cluster: its run
    // there is stopped, so that it does not run on for a service that is gone.
    private void StopReplicaRun(StoredReplica replica)
    {
        if (_clusters is null || PlacementText.Parse(replica.Placement, settings.Fleet) is not { Count: > 0 } nodes) return;
        var fleet = settings.Fleet;
        var site = fleet.PoolSite(fleet.NodePool(fleet.NodeIndex(nodes[0].Name)));
        if (!fleet.Sites[site].Executor.IsSimulated) _clusters.StopUnadopted(replica.Id, site);
    }

    // A new leader's services: every stored service, before its replicas are taken up.
    private void TrackStoredServices(DateTimeOffset at)
    {
        foreach (var row in serviceStore.All()) Track(row, at);
    }

    // The position in the leader's ServiceFleet of a replica's service; -1 when it is no longer held (deleted, or refused by this fleet).
    private int ServiceIndexOf(StoredReplica replica) => _tracked.Values.FirstOrDefault(t => t.Row.Name == replica.Service)?.Index ?? -1;

    // A new leader's waiting replicas (those that were waiting, and running ones not adopted where they run) taken up with their ids.
    private void TakeUpServices(IEnumerable<StoredJob> replicaJobs, IReadOnlyDictionary<long, StoredReplica> replicas, long now, DateTimeOffset at)
    {
        var ended = new List<StateChange>();
        var restored = 0;
        foreach (var job in replicaJobs)
        {
            var index = ServiceIndexOf(replicas[job.Id]);
            if (index < 0)
            {
                ended.Add(new StateChange(job.Id, JobState.Pending, JobState.Cancelled, $"ended: service '{replicas[job.Id].Service}' was deleted"));
                continue;
            }
            var spec = Spec(job);
            var result = _services.Restore(index, job.Id, spec.SubmitTime);
            if (!result.Accepted)
            {
                ended.Add(new StateChange(job.Id, JobState.Pending, JobState.Failed, result.Error));
                continue;
            }
            _known[job.Id] = new KnownJob(spec, null, job.Spec.Name, null);
            restored++;
        }
        store.TransitionMany(ended, at, _epoch);
        if (_tracked.Count > 0)
            log.LogInformation("took up {Services} services with {Replicas} replicas", _tracked.Count, restored);
    }

    // A stored service the leader does not hold yet; false (and a decision saying why) when it can no longer run on this fleet.
    private TrackedService? Track(StoredService row, DateTimeOffset at)
    {
        try
        {
            var index = _services.Add(row.Spec);
            var tracked = new TrackedService(row, index);
            _tracked[row.Id] = tracked;
            return tracked;
        }
        catch (ServiceValidationException e)
        {
            // Accepted when created, refused now (the fleet or the tenant tree changed): it runs no replicas, and says why.
            log.LogWarning("service '{Service}' cannot run on this fleet: {Field}: {Problem}", row.Name, e.Field, e.Problem);
            if (row.Decisions.LastOrDefault()?.Refused != e.Problem)
                serviceStore.RecordDecisions(row.Id, [.. row.Decisions, new ServiceDecision(at, row.RequestsPerSecond, row.PinnedReplicas, 0, 0, 0, e.Problem)], _epoch);
            return null;
        }
    }

    private void ApplyServices(long now, DateTimeOffset at)
    {
        var drives = serviceStore.Drives();
        var present = drives.Select(d => d.Id).ToHashSet();
        foreach (var gone in _tracked.Values.Where(t => !present.Contains(t.Row.Id)).ToList())
        {
            Persist(gone, _services.Remove(gone.Index, now), now, at, $"ended: service '{gone.Row.Name}' was deleted");
            ForgetMetrics(gone.Row);
            _tracked.Remove(gone.Row.Id);
            _scrapes.Remove(gone.Row.Id);
            _scrapedAt.Remove(gone.Row.Id);
        }
        _refused.IntersectWith(present);
        foreach (var drive in drives)
        {
            // A service held already has only what drives it read again; a new one is read whole (and taken as read).
            if (_tracked.TryGetValue(drive.Id, out var held)) held.Row = held.Row.DrivenBy(drive);
            else if (!_refused.Contains(drive.Id) && serviceStore.Get(drive.Id) is { } row && Track(row, at) is null) _refused.Add(drive.Id);
            if (!_tracked.TryGetValue(drive.Id, out var tracked)) continue;
            tracked.Row = Scraped(tracked.Row, at);
            var s = tracked.Row;
            var desired = s.DesiredReplicas;
            // A count pinned by hand is exactly what runs; a rate's wants come with the service's standby replicas.
            var holds = s.PinnedReplicas is null ? _services.HeldFor(tracked.Index, desired) : desired;
            if (desired != tracked.Applied || _services.Held(tracked.Index) != holds)
            {
                // Ids for the replicas about to be submitted, in one write.
                var missing = holds - _services.Held(tracked.Index) - _replicaIds.Count;
                if (missing > 0) foreach (var id in serviceStore.ReserveJobIds(missing, _epoch)) _replicaIds.Enqueue(id);
                var changes = s.PinnedReplicas is { } pinned ? _services.ScaleTo(tracked.Index, pinned, now) : _services.Scale(tracked.Index, s.RequestsPerSecond, now);
                var refused = changes.FirstOrDefault(c => c.Kind == ReplicaChangeKind.Rejected)?.Error;
                Persist(tracked, changes, now, at, $"ended: service '{s.Name}' scaled down to {desired} replicas");
                var moved = changes.Count(c => c.Kind != ReplicaChangeKind.Rejected);
                if (moved > 0 || desired != tracked.Applied || refused != tracked.Refused)
                {
                    tracked.Decisions.Add(new ServiceDecision(at, s.RequestsPerSecond, s.PinnedReplicas, desired,
                        changes.Count(c => c.Kind == ReplicaChangeKind.Submitted), changes.Count(c => c.Kind == ReplicaChangeKind.Ended), refused));
                    if (tracked.Decisions.Count > ServiceStore.KeptDecisions) tracked.Decisions.RemoveRange(0, tracked.Decisions.Count - ServiceStore.KeptDecisions);
                    serviceStore.RecordDecisions(s.Id, tracked.Decisions, _epoch);
                    log.LogInformation("service {Service}: {Rate} requests/s{Pinned}, {Desired} replicas wanted: {Submitted} submitted, {Ended} ended{Refused}",
                        s.Name, s.RequestsPerSecond, s.PinnedReplicas is { } p ? $" (pinned to {p})" : "", desired,
                        tracked.Decisions[^1].Submitted, tracked.Decisions[^1].Ended, refused is null ? "" : $"; refused: {refused}");
                }
                tracked.Applied = desired;
                tracked.Refused = refused;
            }
            string[] labels = [s.Name, s.Tenant];
            metrics.ServiceRate.WithLabels(labels).Set(s.RequestsPerSecond);
            metrics.ServiceDesiredReplicas.WithLabels(labels).Set(desired);
        }
    }

    // Placed replicas count as running once this cycle's placements are in: set after the cycle (ObserveServices).
    private void ObserveServiceMetrics()
    {
        foreach (var t in _tracked.Values)
        {
            var placed = _services.Placed(t.Index);
            metrics.ServiceRunningReplicas.WithLabels(t.Row.Name, t.Row.Tenant).Set(placed);
            // Standby replicas are the placed ones beyond those its rate wants; a count pinned by hand keeps none.
            var standby = t.Row.PinnedReplicas is null ? placed - ServiceScaler.Serving(placed, t.Row.DesiredReplicas, t.Row.Spec.StandbyReplicas) : 0;
            metrics.ServiceStandbyReplicas.WithLabels(t.Row.Name, t.Row.Tenant).Set(standby);
        }
    }

    private void ForgetMetrics(StoredService row)
    {
        metrics.ServiceRate.RemoveLabelled(row.Name, row.Tenant);
        metrics.ServiceDesiredReplicas.RemoveLabelled(row.Name, row.Tenant);
        metrics.ServiceRunningReplicas.RemoveLabelled(row.Name, row.Tenant);
        metrics.ServiceStandbyReplicas.RemoveLabelled(row.Name, row.Tenant);
    }

    // The service with its latest finished scrape taken in (and stored); starts the next scrape when one is due.
    private StoredService Scraped(StoredService row, DateTimeOffset at)
    {
        if (row.PrometheusQueryUrl is not { } url) return row;
        if (_scrapes.TryGetValue(row.Id, out var scrape) && scrape.IsCompleted)
        {
            _scrapes.Remove(row.Id);
            var (rate, error) = scrape.IsCompletedSuccessfully ? scrape.Result : (null, "the scrape failed");
            serviceStore.RecordScrape(row.Id, rate, error, at, _epoch);
            if (error is not null) log.LogWarning("service {Service}: scraping its rate failed ({Error}); it keeps {Rate} requests/s", row.Name, error, row.RequestsPerSecond);
            row = rate is { } r ? row with { RequestsPerSecond = r, RateAt = at, ScrapedAt = at, ScrapeError = null } : row with { ScrapedAt = at, ScrapeError = error };
        }
        if (!_scrapes.ContainsKey(row.Id) && (!_scrapedAt.TryGetValue(row.Id, out var last) || at - last >= settings.ServiceScrapeInterval))
        {
            _scrapedAt[row.Id] = at;
            _scrapes[row.Id] = RateScraper.ScrapeAsync(ScrapeHttp, url, settings.ServiceScrapeTimeout);
        }
        return row;
    }

    // Stores what ServiceFleet did: new replicas as pending jobs (known to the loop, so that it launches them once
    // placed), ended ones cancelled (their runs stopped).
    private void Persist(TrackedService service, IReadOnlyList<ReplicaChange> changes, long now, DateTimeOffset at, string endDetail)
    {
        var spec = service.Row.Spec;
        var inserts = new List<(long, NewJob, string)>();
        var ends = new List<ReplicaChange>();
        foreach (var c in changes)
        {
            if (c.Kind == ReplicaChangeKind.Submitted)
            {
                var job = ReplicaJob(spec);
                inserts.Add((c.JobId, job, spec.Name));
                _known[c.JobId] = new KnownJob(job.ToSpec(c.JobId, now), null, job.Name, null);
            }
            else if (c.Kind == ReplicaChangeKind.Ended)
            {
                ends.Add(c);
                _known.Remove(c.JobId);
                _executor.Cancel(c.JobId, now);
            }
        }
        serviceStore.InsertReplicas(inserts, at, _epoch);
        // Ended from the state ServiceFleet saw; a replica whose placement did not reach the store is ended from the other.
        var first = ends.Select(c => new StateChange(c.JobId, c.WasPlaced ? JobState.Running : JobState.Pending, JobState.Cancelled, endDetail)).ToList();
        var applied = store.TransitionMany(first, at, _epoch);
        store.TransitionMany([.. first.Where((_, i) => !applied[i]).Select(ch => ch with { From = ch.From == JobState.Running ? JobState.Pending : JobState.Running })], at, _epoch);
    }

    /// <summary>A replica of <paramref name="spec"/> as a job: the service's shape on one node, its tenant's, named after it, never timing out.</summary>
    internal static NewJob ReplicaJob(ServiceSpec spec) =>
        new($"{spec.Name} replica", spec.Tenant, spec.GpusPerReplica, spec.Models, ServiceFleet.ReplicaTimeLimitSeconds, 0, spec.PriorityClass, null, null,
            TopologyNeed.Node, CpusPerGpu: spec.CpusPerGpu, MemoryGbPerGpu: spec.MemoryGbPerGpu, Slice: spec.Slice);
}
