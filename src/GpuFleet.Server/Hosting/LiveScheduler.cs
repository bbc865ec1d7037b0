using System.Diagnostics;
using System.Text.Json;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Core.Execution;
using GpuFleet.Server.Execution;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;
using GpuFleet.Core.Fleets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// The scheduling loop of the live service: the same core as the twin, on the real clock. Every
/// replica runs this loop, but only the one holding the scheduler lease schedules; the others check
/// the lease each cycle and take it when it is free: released, expired (the leader stopped renewing
/// it: frozen, partitioned), or held by a process or session that is seen to have ended (then at once).
///
/// The API commits a job (and an inbox entry) before answering; each cycle the leader renews its
/// lease and then, in the twin's order, ends what the executor finished, takes new and cancelled jobs
/// from the inbox, runs the core and writes its decisions back (a placement is committed as a checked
/// Pending → Running change before the executor starts it). The core is built with the same
/// <see cref="SchedulerOptions"/> and the executor is the twin's <see cref="SimulatedExecutor"/> on the
/// real clock, so that the same submissions at the same instants get the same decisions as in the twin. Every write of the leader, the inbox's clearing included, is fenced
/// by its lease epoch, so a replica that lost the lease without noticing (it was frozen past its
/// lease) writes nothing and steps down. On taking the lease, a replica takes up every pending job and
/// requeues running ones, whose executor was lost with the previous leader.
/// </summary>
public sealed partial class LiveScheduler(ServerSettings settings, JobStore store, ServiceStore serviceStore, Func<Func<JobSpec, long>, IJobExecutor> newExecutor, SiteExecutorFactory siteExecutors,
    TimeProvider clock, FleetMetrics metrics, Microsoft.AspNetCore.Hosting.Server.IServer server, ILoggerFactory logs) : BackgroundService
{
    private static readonly TimeSpan SnapshotEvery = TimeSpan.FromSeconds(2);
    private const int InboxBatch = 20_000;
    // Held for a whole cycle: the loop waits for it on its own thread, requests (why a job waits, the
    // leader's view) await it without holding a thread.
    private readonly SemaphoreSlim _gate = new(1, 1);
    // Released when a cluster reports ended runs: the loop then cycles at once instead of at its next tick.
    private readonly SemaphoreSlim _clusterNews = new(0);
    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
    private FleetScheduler _core = null!;
    private IJobExecutor _executor = null!;
    // The same executor when some site runs on a real cluster (else null: every site is simulated).
    private FleetExecutor? _clusters;
    private readonly ILogger<LiveScheduler> log = logs.CreateLogger<LiveScheduler>();
    // Jobs handed to the core, with what the executor needs to start them (so placing a job reads no
    // database). A job seen both when leadership began and in the inbox is admitted once.
    private readonly Dictionary<long, KnownJob> _known = [];
    // This replica's identity in the lease, for its whole life (reopened if the database dropped it).
    private ReplicaSession? _session;
    private bool _leading;
    private long _epoch;
    private FleetSnapshot? _published;
    // The address last published with the view (null: none yet, the server was not listening).
    private string? _publishedUrl;
    private readonly FleetHistory _history = new();
    private (FleetSnapshot View, long Cycle)? _leaderView;
    private FollowerView? _followerView;

    /// <summary>Cycles run so far as leader.</summary>
    public long Cycles { get; private set; }
    /// <summary>Duration of the last cycle.</summary>
    public double LastCycleMs { get; private set; }
    /// <summary>Jobs waiting in the core after the last cycle.</summary>
    public int PendingCount { get; private set; }
    /// <summary>Jobs running in the core after the last cycle.</summary>
    public int RunningCount { get; private set; }
    /// <summary>Time spent in cycles so far.</summary>
    public double BusySeconds { get; private set; }
    /// <summary>Whether this replica runs the scheduler now.</summary>
    public bool IsLeader => _leading;
    /// <summary>This replica's name in the lease.</summary>
    public string Holder => _holder;

    /// <summary>Each site that runs on a real cluster, as its executor stands (empty when every site is simulated or this replica does not lead).</summary>
    public IReadOnlyList<SiteHealth> SiteHealth => _clusters?.Health ?? [];

    /// <summary>Why a pending job waits and when it should start; null when unknown here (not the leader, or not pending).</summary>
    public async Task<PendingExplanation?> ExplainAsync(long id, CancellationToken cancel = default)
    {
        await _gate.WaitAsync(cancel);
        try
        {
            return _leading ? _core.Explain(id) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Each NVLink domain of <paramref name="pool"/> as the core holds it now; null when this replica does not lead.</summary>
    public async Task<IReadOnlyList<DomainUse>?> PoolDomainsAsync(int pool, CancellationToken cancel = default)
    {
        await _gate.WaitAsync(cancel);
        try
        {
            if (!_leading) return null;
            var fleet = settings.Fleet;
            var domains = new List<DomainUse>();
            foreach (var d in fleet.PoolDomains(pool))
            {
                int first = fleet.DomainFirstNode(d), count = fleet.DomainNodeCount(d), busy = 0, down = 0;
                for (var n = first; n < first + count; n++)
                {
                    busy += System.Numerics.BitOperations.PopCount(_core.NodeUsedMask(n));
                    down += _core.OutOfService(n);
                }
                domains.Add(new DomainUse(fleet.NodeName(first), fleet.NodeName(first + count - 1), fleet.DomainGpus(d), busy, down));
            }
            return domains;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// When this replica's executor next needs a cycle (a simulated run's planned end); null when it does
    /// not know, or this replica does not lead. Lets a caller on a virtual clock step from event to event.
    /// </summary>
    public long? NextExecutorWake
    {
        get
        {
            _gate.Wait();
            try
            {
                return _leading ? _executor.NextWake : null;
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>
    /// Whether the run of job <paramref name="id"/>, placed on <paramref name="nodes"/>, waits for its cluster to start it,
    /// as its site lists it (the <see cref="ClusterWait.MaxListed"/> longest waiting): on the leader from the site's
    /// agent, elsewhere from the leader's published view (a second or two old); null when it does not, and at a
    /// simulated site, which starts what it is given.
    /// </summary>
    public async Task<Execution.WaitingRun?> WaitingInClusterAsync(long id, IReadOnlyList<Api.NodeView>? nodes, CancellationToken cancel = default)
    {
        var fleet = settings.Fleet;
        if (nodes is not [var first, ..] || fleet.NodeIndex(first.Name) is var node && node < 0) return null;
        var site = fleet.Sites[fleet.PoolSite(fleet.NodePool(node))];
        if (site.Executor.IsSimulated) return null;
        // The leader asks its site's agent rather than build a whole view for one job.
        var wait = IsLeader ? SiteHealth.FirstOrDefault(h => h.Site == site.Name)?.Waiting
            : (await ViewAsync(cancel))?.Sites.FirstOrDefault(s => s.Site == site.Name)?.WaitingInCluster;
        return wait?.Jobs.FirstOrDefault(j => j.Job == id);
    }

    /// <summary>The view of queues, sites and grants: live on the leader, the leader's latest published one elsewhere.</summary>
    public async Task<FleetSnapshot?> ViewAsync(CancellationToken cancel = default)
    {
        var now = clock.GetUtcNow();
        await _gate.WaitAsync(cancel);
        try
        {
            if (_leading)
            {
                // The core changes only in cycles: browsers refreshing pages between two cycles share one view
                // instead of each holding up the next cycle while it is built (at most a second old for executor health).
                if (_leaderView is { } v && v.Cycle == Cycles && now - v.View.At < TimeSpan.FromSeconds(1)) return v.View;
                var fresh = _history.Record(FleetSnapshot.Of(_core, settings, now, _epoch, SiteHealth));
                _leaderView = (fresh, Cycles);
                return fresh;
            }
            if (_followerView is { } cached && now - cached.ReadAt < TimeSpan.FromSeconds(1)) return cached.View;
        }
        finally
        {
            _gate.Release();
        }
        var stored = await store.SnapshotAsync(cancel);
        var view = stored is { } s ? JsonSerializer.Deserialize<FleetSnapshot>(s.Json, JsonSerializerOptions.Web) : null;
        // One reference, written whole: a request that reads the one before it gets a view a second older.
        if (view is not null) _followerView = new FollowerView(view, now);
        return view;
    }

    /// <summary>Runs one cycle now, first trying to take the lease if this replica does not hold it (the loop calls this; tests may too).</summary>
    public void Tick()
    {
        _gate.Wait();
        try
        {
            var tookLease = false;
            if (!_leading)
            {
                if (!TryLead()) return;
                tookLease = true;
            }
            try
            {
                if (tookLease) TakeUp();
                else if (!_session!.Usable)
                {
                    StepDown("its database session ended");
                    return;
                }
                // A leader that was silent past its lease (frozen, cut off) finds another's epoch here and stops before writing anything.
                else if (!store.RenewLease(_epoch))
                {
                    StepDown($"another replica took the lease (this one's epoch {_epoch} was not renewed in time)");
                    return;
                }
                Cycle();
            }
            catch (LeaseLostException e)
            {
                StepDown(e.Message);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                // The core may now hold decisions the database does not: start again from the database
                // (the next cycle takes the lease again if it can, and takes up every active job).
                log.LogError(e, "scheduling cycle failed");
                StepDown($"a cycle failed ({e.GetType().Name}); the scheduler state is rebuilt from the database");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Cycle()
    {
        var watch = Stopwatch.StartNew();
        var at = clock.GetUtcNow();
        var now = settings.ToClock(at);
        // What clusters started goes on record first: GPU time is charged from a cluster's start.
        if (_clusters is not null) store.RecordStarts(_clusters.TakeStarts(), _epoch);
        // As in the twin: the runs that ended, then new jobs and cancellations, then one cycle.
        var ended = _executor.Ended(now);
        var requeued = new List<StateChange>();
        foreach (var e in ended)
        {
            // A lost run (its node failed, the cluster no longer has it) queues again; any other end ends the job.
            if (e.Outcome == RunOutcome.Lost && RequeueRun(e.JobId, now))
            {
                requeued.Add(new StateChange(e.JobId, JobState.Running, JobState.Pending, $"requeued: {e.Detail}", At: _clusters?.ReportedEnd(e.JobId)));
                continue;
            }
            _core.End(e.JobId, now);
            _known.Remove(e.JobId);
            // A replica whose run ended by itself is replaced by its service's next scaling.
            _services.Forget(e.JobId);
        }
        // An end is recorded at the time its cluster reports, so that GPU time is charged as the cluster accounts it.
        store.TransitionMany([.. ended.Where(e => e.Outcome != RunOutcome.Lost).Select(e => EndChange(e) with { At = _clusters?.ReportedEnd(e.JobId) }), .. requeued], at, _epoch);
        if (_clusters is not null)
            foreach (var (node, outOfService) in _clusters.AvailabilityChanges()) _core.SetOutOfService(node, outOfService);
        var tFinish = watch.ElapsedMilliseconds;
        TakeInbox(now, at);
        var tInbox = watch.ElapsedMilliseconds;
        // Services scale before the cycle, as in the twin: the replicas they submit are placed in it.
        ApplyServices(now, at);
        var cycle = _core.RunCycle(now);
        _services.Observe(cycle);
        var tCore = watch.ElapsedMilliseconds;
        foreach (var p in cycle.Preemptions) _executor.Evict(p.VictimJobId, now);
        // Each phase is a few transactions (slices of JobStore.TransitionsPerTransaction changes): a cycle that starts 500 jobs syncs the database 8 times, not 500.
        store.TransitionMany([.. cycle.Preemptions.Select(p => new StateChange(p.VictimJobId, JobState.Running, JobState.Pending,
            PreemptedDetail.Of(p.Kind.ToString().ToLowerInvariant(), p.PreemptorJobId, p.PreemptorTenant)))], at, _epoch);
        var changes = cycle.Placements.Select(p =>
        {
            var site = settings.Fleet.Sites[p.Site].Name;
            var model = settings.Fleet.Models[p.Model].Name;
            // The history keeps where each run was, the job row where the latest is: each node by name with
            // its GPUs ("nodes a-[0001-0002],a-0007 (GPUs 0-3)"), so that what every GPU held can be replayed from the record.
            var where = PlacementText.Where(p, settings.Fleet);
            // A slice job's slices go with it (each GPU's MIG instance or share): what it holds and is charged.
            return new StateChange(p.JobId, JobState.Pending, JobState.Running, $"{JobStore.PlacedPrefix}{where}", where, site, model,
                Slices: PlacedSlice.Column(PlacedSlice.Of(p, settings.Fleet)));
        }).ToList();
        var applied = store.TransitionMany(changes, at, _epoch);
        for (var i = 0; i < cycle.Placements.Count; i++)
        {
            var p = cycle.Placements[i];
            if (!applied[i] || !_known.TryGetValue(p.JobId, out var job))
            {
                _core.End(p.JobId, now); // cancelled between submission to the core and placement
                _known.Remove(p.JobId);
                _services.Forget(p.JobId);
                continue;
            }
            _executor.Launch(job.Spec, p, now);
        }
        log.LogDebug("cycle: inbox {InboxMs} ms, endings {EndMs} ms, core {CoreMs} ms, writes {WriteMs} ms; placed {Placed}, ended {Ended}, pending {Pending}",
            tInbox - tFinish, tFinish, tCore - tInbox, watch.ElapsedMilliseconds - tCore, cycle.Placements.Count, ended.Count, _core.PendingCount);
        // Also as soon as the address other replicas reach this one at is known: the first cycles run before the
        // server listens, and until it is published standbys cannot ask this leader why a job waits.
        // Once published, the address does not change (a fixed setting, or the port bound at start): not looked up again each cycle.
        var url = _publishedUrl ?? AdvertisedUrl();
        var published = _published is null || at - _published.At >= SnapshotEvery || (url is not null && _publishedUrl is null);
        if (published)
        {
            _published = _history.Record(FleetSnapshot.Of(_core, settings, at, _epoch, SiteHealth));
            store.PublishSnapshot(JsonSerializer.Serialize(_published, JsonSerializerOptions.Web), at, _epoch, url);
            _publishedUrl = url;
        }
        Cycles++;
        // The view this cycle published is the one browsers ask for until the next cycle: not built twice.
        if (published) _leaderView = (_published!, Cycles);
        LastCycleMs = watch.Elapsed.TotalMilliseconds;
        BusySeconds += watch.Elapsed.TotalSeconds;
        metrics.CycleSeconds.Observe(watch.Elapsed.TotalSeconds);
        metrics.Placements.Inc(cycle.Placements.Count);
        metrics.Preemptions.Inc(cycle.Preemptions.Count);
        (PendingCount, RunningCount) = (_core.PendingCount, _core.RunningCount);
        metrics.Pending.Set(PendingCount);
        metrics.Running.Set(RunningCount);
        var busy = 0;
        foreach (var b in _core.BusyByPool) busy += b;
        metrics.BusyGpus.Set(busy);
        ObserveServiceMetrics();
        metrics.Utilization.Set((double)busy / settings.Fleet.TotalGpus);
        foreach (var h in SiteHealth)
        {
            metrics.SiteReachable.WithLabels(h.Site).Set(h.Reachable ? 1 : 0);
            metrics.SiteUnscheduledGpus.WithLabels(h.Site).Set(h.Unscheduled?.Sum(n => n.UnscheduledGpus) ?? 0);
            if (h.LastContact is { } contact) metrics.SiteLastContact.WithLabels(h.Site).Set(contact.ToUnixTimeSeconds());
            metrics.SiteWaitingRuns.WithLabels(h.Site).Set(h.Waiting?.Runs ?? 0);
            metrics.SiteLongestWait.WithLabels(h.Site).Set(h.Waiting is { } w ? Math.Max(0, (at - w.OldestSince).TotalSeconds) : 0);
        }
        foreach (var (site, node, gpu) in _clusters?.Telemetry ?? [])
        {
            string[] labels = [site, node, gpu.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), gpu.Name];
            if (gpu.TemperatureC is { } c) metrics.GpuTemperature.WithLabels(labels).Set(c);
            if (gpu.PowerW is { } w) metrics.GpuPower.WithLabels(labels).Set(w);
            if (gpu.UtilizationPercent is { } u) metrics.GpuUtilization.WithLabels(labels).Set(u / 100);
            if (gpu.MemoryMiB is { } m) metrics.GpuMemory.WithLabels(labels).Set(m * 1024 * 1024);
        }
    }

    // New jobs and cancellations from every replica. An entry is removed only after it was taken up;
    // if this replica dies first, the next leader reads every active job anyway.
    private void TakeInbox(long now, DateTimeOffset at)
    {
        var entries = store.ReadInbox(InboxBatch);
        foreach (var e in entries)
        {
            var job = e.Job;
            if (job.State == JobState.Pending) Admit(job, at);
            else if (JobTransitions.IsFinal(job.State) && _known.Remove(job.Id))
            {
                _core.End(job.Id, now);
                _executor.Cancel(job.Id, now);
                // A replica cancelled by hand is replaced by its service's next scaling.
                _services.Forget(job.Id);
            }
        }
        store.ClearInbox([.. entries.Select(e => e.Seq)], _epoch);
    }

    // Known once the server listens (after the first cycles, which run before it binds).
    private string? AdvertisedUrl() => settings.AdvertisedUrl
        ?? server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => !a.EndsWith(":0", StringComparison.Ordinal));

    private bool TryLead()
    {
        if (_session is not { Usable: true })
        {
            _session?.Dispose();
            _session = null;
            _session = store.Dialect.OpenSession(store.Database);
        }
        var at = clock.GetUtcNow();
        if (store.TryTakeLease(_holder, _session, at) is not { } epoch) return false;
        _epoch = epoch;
        _leading = true;
        Reset();
        return true;
    }

    private void TakeUp()
    {
        var at = clock.GetUtcNow();
        var now = settings.ToClock(at);
        // Everything active is taken up again: pending jobs as they are; running ones at a site with a
        // real cluster are adopted where they run (the cluster kept running them, and its next look says
        // what became of each); running ones at a simulated site are requeued (their run went with the
        // previous leader's executor).
        var active = store.Active();
        // Replicas are taken up by their services (TakeUpServices), not admitted as jobs of their own.
        var replicas = serviceStore.ActiveReplicas().ToDictionary(r => r.Id);
        var requeue = new List<StoredJob>();
        var adopted = 0;
        RestoreSetAside();
        // The services first, so that their running replicas are adopted like other jobs.
        TrackStoredServices(at);
        foreach (var job in active.Where(j => j.State == JobState.Running))
        {
            var service = replicas.TryGetValue(job.Id, out var replica) ? ServiceIndexOf(replica) : -1;
            // A replica of a service deleted meanwhile is not taken up: its run stops, and it ends as waiting.
            if (replica is not null && service < 0) StopReplicaRun(replica);
            if ((replica is null || service >= 0) && TryAdopt(job, now, service)) adopted++;
            else requeue.Add(job);
        }
        store.TransitionMany([.. requeue.Select(j => new StateChange(j.Id, JobState.Running, JobState.Pending,
            "requeued: the scheduler changed hands and the previous leader's run was lost"))], at, _epoch);
        foreach (var job in active.Where(j => j.State == JobState.Pending).Concat(requeue).Where(j => !replicas.ContainsKey(j.Id))) Admit(job with { State = JobState.Pending }, at);
        TakeUpServices(active.Where(j => j.State == JobState.Pending).Concat(requeue).Where(j => replicas.ContainsKey(j.Id)), replicas, now, at);
        metrics.Leader.Set(1);
        log.LogInformation("{Holder} leads the scheduler (epoch {Epoch}): took up {Active} active jobs, adopted {Adopted} running on clusters, requeued {Requeued}",
            _holder, _epoch, active.Count, adopted, requeue.Count);
    }

    // Nodes the previous leader had set aside (its cluster did not start a run there in time) stay aside until the
    // times it published with its last view of the fleet (at most SnapshotEvery old): the first cycle then places
    // nothing there, rather than timing out another run on them.
    private void RestoreSetAside()
    {
        if (_clusters is null || store.SnapshotAsync().GetAwaiter().GetResult() is not { } stored) return;
        FleetSnapshot? last;
        try
        {
            last = JsonSerializer.Deserialize<FleetSnapshot>(stored.Json, JsonSerializerOptions.Web);
        }
        catch (JsonException e)
        {
            // Not worth failing a take-up for: the nodes are set aside again if the cluster again does not start runs there.
            log.LogWarning("the previous leader's view of the fleet cannot be read ({Error}): the nodes it set aside are not kept aside", e.Message);
            return;
        }
        foreach (var site in last?.Sites ?? [])
            if (site.SetAsideUntil is { Count: > 0 } until && settings.Fleet.SiteIndex(site.Site) is var i and >= 0) _clusters.RestoreSetAside(i, until);
    }

    // A running job whose recorded placement is at a site with a real cluster runs on there, on the same GPUs
    // or slices; a replica (service >= 0) is taken up by its service, as placed.
    private bool TryAdopt(StoredJob job, long now, int service = -1)
    {
        if (_clusters is null || PlacementText.Parse(job.Placement, settings.Fleet) is not { } nodes) return false;
        var fleet = settings.Fleet;
        var gpus = nodes.Select(n => GpuAllocation.Of(fleet.NodeIndex(n.Name), n.Gpus)).ToList();
        var site = fleet.PoolSite(fleet.NodePool(gpus[0].Node));
        if (fleet.Sites[site].Executor.IsSimulated) return false;
        var spec = Spec(job);
        if (!_known.TryAdd(job.Id, service >= 0 ? new KnownJob(spec, null, job.Spec.Name, null) : new KnownJob(spec, job.Spec.RuntimeSeconds, job.Spec.Name, job.Spec.Command))) return false;
        // A job of slices is taken up on the instances and shares its placement recorded.
        SlicePlacement[]? slices = job.Slices is { Count: > 0 } recorded ? [.. recorded.Select(s => SliceOf(s, fleet))] : null;
        var result = service >= 0 ? _services.Adopt(service, job.Id, spec.SubmitTime, gpus, slices, now)
            : spec.Slice is null ? _core.Adopt(spec, gpus, now)
            : slices is not null ? _core.Adopt(spec, slices, now)
            : SubmitResult.Rejected(job.Id, "its slices were not recorded");
        if (!result.Accepted)
        {
            // Its run on the cluster is stopped before it queues again: left running, it would hold GPUs the
            // core gives to others, and a launch of the job elsewhere would find that run and start nothing.
            log.LogWarning("job {Job} cannot be adopted where it runs ({Error}); its run there is cancelled and it is requeued", job.Id, result.Error);
            _known.Remove(job.Id);
            _clusters.StopUnadopted(job.Id, site);
            return false;
        }
        _clusters.Adopt(job.Id, job.Spec.Tenant, site, [.. nodes.Select(n => n.Name)]);
        return true;
    }

    // A recorded slice in the core's terms; a node the fleet does not have is -1 (the core refuses it).
    private static SlicePlacement SliceOf(PlacedSlice s, Fleet fleet) =>
        new(fleet.NodeIndex(s.Node), s.Gpu, s.MigProfile, s.MigStart ?? 0, s.Fraction, s.MemoryGb);

    private void StepDown(string reason)
    {
        log.LogWarning("{Holder} stops scheduling (epoch {Epoch}): {Reason}", _holder, _epoch, reason);
        _leading = false;
        Reset();
        metrics.Leader.Set(0);
        // What this replica last saw of the clusters' queues is not news once another leads: no alert stays up on it.
        foreach (var site in settings.Fleet.Sites.Where(s => !s.Executor.IsSimulated))
        {
            metrics.SiteWaitingRuns.WithLabels(site.Name).Set(0);
            metrics.SiteLongestWait.WithLabels(site.Name).Set(0);
        }
    }

    private void Reset()
    {
        _core = new FleetScheduler(settings.Fleet, settings.Scheduling);
        _leaderView = null;
        // A new term starts its sites' links afresh: the old ones stop (what runs on the clusters keeps running).
        _clusters?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _clusters = null;
        var simulated = newExecutor(spec => SimulatedRuntime.Of(spec.Id, spec.TimeLimitSeconds, _known.TryGetValue(spec.Id, out var job) ? job.RuntimeSeconds : null));
        _executor = simulated;
        if (_leading && settings.Fleet.Sites.Any(s => !s.Executor.IsSimulated))
        {
            // The links to the clusters keep the real clock (polls, inventories, grace times), whatever clock decides.
            var agents = settings.Fleet.Sites.Select((site, i) => site.Executor.IsSimulated ? null
                : new SiteAgent(site.Name, siteExecutors(settings.Fleet, i), site.Executor, TimeProvider.System, logs.CreateLogger<SiteAgent>(), () => _clusterNews.Release())).ToList();
            _executor = _clusters = new FleetExecutor(settings.Fleet, simulated, agents, id =>
                _known.TryGetValue(id, out var job) ? new FleetExecutor.LaunchDetails(job.Name, job.Command, job.RuntimeSeconds) : new FleetExecutor.LaunchDetails($"job {id}", null, null),
                settings.ToClock);
        }
        _known.Clear();
        _published = null;
        _publishedUrl = null;
        ResetServices();
    }

    /// <inheritdoc />
    /// <remarks>
    /// The loop runs on a thread of its own, which its cycles' database calls block: a cycle that
    /// waits for its commits, or for the lock it holds while it runs, never holds a thread the API needs.
    /// </remarks>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Tick();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "scheduling cycle failed");
            }
            try
            {
                // Waited for here, on the loop's own thread (the clock may be a test's, moved by hand). With
                // real clusters, their ends wake it early: a run's GPUs take the next job within a poll, not a
                // poll and a tick (bench slurm: release latency was 1.3-1.75 s with a 1 s poll).
                if (_clusters is null) Task.Delay(settings.CycleInterval, clock, stoppingToken).GetAwaiter().GetResult();
                else if (_clusterNews.Wait(settings.CycleInterval, stoppingToken))
                    while (_clusterNews.Wait(0)) { }   // one cycle takes all the news so far

            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            // Hand the lease over now rather than after it expires. Best effort: a replica that cannot
            // reach the database is replaced when its lease runs out.
            if (_leading)
            {
                try
                {
                    store.ReleaseLease(_epoch);
                }
                catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
                {
                    log.LogWarning("{Holder} could not release the scheduler lease: {Error}", _holder, e.Message);
                }
            }
            _leading = false;
            // Stop talking to the clusters; what runs there keeps running for the next leader to adopt.
            if (_clusters is not null) await _clusters.DisposeAsync();
            _clusters = null;
            _session?.Dispose();
            _session = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Admit(StoredJob job, DateTimeOffset at)
    {
        var spec = Spec(job);
        if (!_known.TryAdd(job.Id, new KnownJob(spec, job.Spec.RuntimeSeconds, job.Spec.Name, job.Spec.Command))) return;
        var result = _core.Submit(spec);
        if (result.Accepted) return;
        _known.Remove(job.Id);
        store.TransitionMany([new StateChange(job.Id, JobState.Pending, JobState.Failed, result.Error)], at, _epoch);
    }

    // How a run's end shows in the store: succeeded, or failed with the executor's words.
    private static StateChange EndChange(RunEnd e) => e.Outcome switch
    {
        RunOutcome.Completed => new StateChange(e.JobId, JobState.Running, JobState.Succeeded, e.Detail ?? (e.ExitCode is { } code ? $"ended (exit code {code})" : "ended")),
        RunOutcome.TimedOut => new StateChange(e.JobId, JobState.Running, JobState.Failed, "timed out: reached its time limit"),
        _ => new StateChange(e.JobId, JobState.Running, JobState.Failed, e.Detail ?? "failed"),
    };

    // Every field of the submission, as the API's check of whether it can ever fit read it.
    private JobSpec Spec(StoredJob job) => job.Spec.ToSpec(job.Id, settings.ToClock(job.SubmittedAt));

    // A job handed to the core, with what an executor needs to start it.
    private sealed record KnownJob(JobSpec Spec, long? RuntimeSeconds, string Name, string? Command);

    // The leader's published view as a replica that does not lead last read it.
    private sealed record FollowerView(FleetSnapshot View, DateTimeOffset ReadAt);
}
