using GpuFleet.Core.Fleets;
using GpuFleet.Executors;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Execution;

/// <summary>
/// One site's link to its cluster: carries out the scheduling loop's requests (launch, checkpoint
/// signal, cancel) in the order they came, looks at the cluster once per poll interval, and keeps what it
/// saw for the loop to take. The loop never waits for the cluster: it queues requests and takes results.
/// </summary>
/// <remarks>
/// Failures: a cluster that does not answer leaves every request queued (retried in order next round)
/// and the site <see cref="Reachable"/> false; nothing running is stopped because of it, and the site's
/// nodes count as out of service until the cluster answers again. A launch the cluster refuses ends the
/// job as failed with the cluster's words. A run that GpuFleet counts as running (launched or adopted)
/// and that a later look at the cluster no longer finds, with no end reported, is reported lost: the job
/// queues again.
/// Example: slurmctld stops for 30 s. Observations fail, the site turns unreachable, its nodes go out of
/// service (no new placements there) and the jobs stay running in GpuFleet. When slurmctld answers, the
/// first look reports what ended meanwhile, the inventory puts the nodes back, and queued requests run.
/// </remarks>
internal sealed class SiteAgent : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly List<Request> _requests = [];
    private readonly List<ExecutorEvent> _ends = [];
    private readonly List<ExecutorEvent> _starts = [];
    // GpuFleet's runs here: job id → the nodes placed on (null for an adopted run whose nodes are not known), and whether it was confirmed launched.
    private readonly Dictionary<long, Tracked> _tracked = [];
    // Runs GpuFleet stopped itself (cancelled or evicted): their "cancelled" end is not news.
    private readonly HashSet<long> _stopping = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly TimeSpan _poll;
    private readonly TimeSpan _inventoryEvery;
    private readonly TimeSpan _grace;
    private readonly TimeSpan _launchTimeout;
    private readonly TimeSpan _setAsideFor;
    private readonly TimeSpan _launchWarning;
    private readonly Action? _ended;
    private Task? _loop;
    private DateTimeOffset _lastInventory = DateTimeOffset.MinValue;
    private volatile SiteInventory? _inventory;
    private volatile int _heldByOthers;
    private (string Node, Executors.Local.GpuReading Reading)? _telemetry;
    private volatile bool _reachable = true;
    private DateTimeOffset? _lastContact;
    private string? _lastError;
    private int _mismatches;
    private ClusterWait? _waiting;
    private long _availabilityVersion;
    private IReadOnlyList<UnscheduledNode> _unscheduled = [];
    private HashSet<string> _missing = new(StringComparer.Ordinal);
    // Nodes where the cluster did not start a run within the launch timeout, and until when they take no new work.
    private readonly Dictionary<string, DateTimeOffset> _setAside = new(StringComparer.Ordinal);

    /// <param name="ended">Called when runs ended: the scheduling loop may run a cycle at once rather than at its next tick, so that freed GPUs do not idle.</param>
    public SiteAgent(string site, ISiteExecutor executor, SiteExecutorSpec spec, TimeProvider clock, ILogger log, Action? ended = null)
    {
        _ended = ended;
        Site = site;
        Executor = executor;
        _clock = clock;
        _log = log;
        _poll = TimeSpan.FromSeconds(spec.Seconds("pollSeconds", 2));
        _inventoryEvery = TimeSpan.FromSeconds(spec.Seconds("inventorySeconds", 15));
        _grace = TimeSpan.FromSeconds(spec.Seconds("checkpointGraceSeconds", 30));
        _launchTimeout = TimeSpan.FromSeconds(spec.Seconds("launchTimeoutSeconds", 600));
        _setAsideFor = TimeSpan.FromSeconds(spec.Seconds("setAsideSeconds", (int)_launchTimeout.TotalSeconds));
        _launchWarning = TimeSpan.FromSeconds(spec.Seconds("launchWarningSeconds", 60));
    }

    public string Site { get; }
    public ISiteExecutor Executor { get; }
    public bool Reachable => _reachable;
    /// <summary>Changes whenever reachability or the inventory changed: the loop then recomputes what is out of service.</summary>
    public long AvailabilityVersion => Interlocked.Read(ref _availabilityVersion);
    /// <summary>The latest inventory the cluster gave; null before the first.</summary>
    public SiteInventory? Inventory => _inventory;
    /// <summary>The GPUs of a local site's machine as last read (with the inventory); null elsewhere.</summary>
    public (string Node, Executors.Local.GpuReading Reading)? Telemetry => _telemetry;

    public SiteHealth Health()
    {
        // While the cluster does not answer, what it last said of its queue is not news: none is shown.
        lock (_lock) return new SiteHealth(Site, Executor.Kind, _reachable, _lastContact, _lastError, _tracked.Count, _mismatches, _unscheduled,
            _reachable ? _heldByOthers : 0, _reachable ? _waiting : null, _setAside.Count == 0 ? null : new SortedDictionary<string, DateTimeOffset>(_setAside, StringComparer.Ordinal));
    }

    /// <summary>
    /// Sets aside again what the previous leader had set aside here, until the same times (a new leader that did not
    /// would place jobs where the cluster just would not start them, and time each out in turn); times past are ignored.
    /// </summary>
    public void RestoreSetAside(IReadOnlyDictionary<string, DateTimeOffset> until)
    {
        var now = _clock.GetUtcNow();
        var restored = new List<string>();
        lock (_lock)
            foreach (var (node, end) in until)
            {
                if (end <= now || (_setAside.TryGetValue(node, out var held) && held >= end)) continue;
                _setAside[node] = end;
                restored.Add(node);
            }
        if (restored.Count == 0) return;
        Interlocked.Increment(ref _availabilityVersion);
        _log.LogInformation("site {Site}: {Nodes} stay set aside as the previous leader set them, until {Until:O} at the latest",
            Site, Core.Fleets.HostList.Compress(restored), restored.Max(n => until[n]));
    }

    /// <summary>
    /// The nodes of the latest inventory that GpuFleet does not schedule (the scheduling loop holds the inventory
    /// against the fleet); each change is logged once, not at every inventory.
    /// </summary>
    public void Unscheduled(IReadOnlyList<UnscheduledNode> nodes)
    {
        IReadOnlyList<UnscheduledNode> before;
        lock (_lock) (before, _unscheduled) = (_unscheduled, nodes);
        var was = before.ToHashSet();
        foreach (var n in nodes.Where(n => !was.Contains(n)))
            _log.LogWarning("site {Site}: node {Node} ({Gpus} GPUs, {Model}) is listed by the cluster but {Unscheduled} of its GPUs are not scheduled: {Reason}",
                Site, n.Node, n.Gpus, n.Model ?? "no model", n.UnscheduledGpus, n.Reason);
        var now = nodes.Select(n => n.Node).ToHashSet(StringComparer.Ordinal);
        foreach (var n in before.Where(n => !now.Contains(n.Node)))
            _log.LogInformation("site {Site}: node {Node} no longer stands apart from the fleet: it left the cluster's list, or fits the fleet's node of its name", Site, n.Node);
    }

    /// <summary>The fleet's nodes the latest inventory did not list (out of service); each change is logged once.</summary>
    public void Missing(IReadOnlyList<string> nodes)
    {
        var now = nodes.ToHashSet(StringComparer.Ordinal);
        HashSet<string> before;
        lock (_lock) (before, _missing) = (_missing, now);
        var gone = nodes.Where(n => !before.Contains(n)).ToList();
        var back = before.Where(n => !now.Contains(n)).ToList();
        if (gone.Count > 0) _log.LogWarning("site {Site}: the cluster does not list {Nodes}: out of service until it does", Site, Core.Fleets.HostList.Compress(gone));
        if (back.Count > 0) _log.LogInformation("site {Site}: the cluster lists {Nodes} now: in service as the cluster's state says", Site, Core.Fleets.HostList.Compress(back));
    }

    /// <summary>
    /// Nodes set aside: the cluster did not start a run there within <c>launchTimeoutSeconds</c>, and for as long
    /// again they take no new work (out of service), so that the job requeued, and others, go elsewhere rather than
    /// wait there in turn. The cluster sees something GpuFleet does not: a reservation about to begin, its own
    /// users' jobs ahead in its queue, a node it will not schedule.
    /// </summary>
    public IReadOnlySet<string> SetAside()
    {
        lock (_lock) return _setAside.Keys.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Starts looking at the cluster; the first look and inventory happen at once.</summary>
    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    public void Launch(ExecutorLaunch launch)
    {
        // A job evicted here and placed here again within the grace time launches after its old run's
        // cancel (requests of one job keep their order), and that run's "cancelled" stays expected.
        lock (_lock) _tracked[launch.JobId] = new Tracked([.. launch.Nodes.Select(n => n.Node)], Confirmed: false, _clock.GetUtcNow(), launch.Tenant);
        Enqueue(new Request(launch.JobId, "launch", c => Executor.LaunchAsync(launch, c), [.. launch.Nodes.Select(n => n.Node)]));
    }

    /// <summary>Counts a run the cluster already has (a new leader taking over) as GpuFleet's.</summary>
    public void Adopt(long jobId, string tenant, IReadOnlyList<string>? nodes)
    {
        lock (_lock) _tracked[jobId] = new Tracked(nodes, Confirmed: true, DateTimeOffset.MinValue, tenant);
    }

    /// <summary>An eviction: the checkpoint signal now, the cancel after the grace time.</summary>
    public bool Evict(long jobId)
    {
        IReadOnlyList<string>? nodes;
        lock (_lock) nodes = _tracked.GetValueOrDefault(jobId)?.Nodes;
        if (!Forget(jobId)) return false;
        Enqueue(new Request(jobId, "checkpoint signal", c => Executor.SignalAsync(jobId, ExecutorSignal.Checkpoint, c), []));
        // A job placed on the victim's nodes (queued after this) launches only once the victim is cancelled.
        Enqueue(new Request(jobId, "eviction", c => Executor.CancelAsync(jobId, c), nodes ?? [], _clock.GetUtcNow() + _grace));
        return true;
    }

    /// <summary>Cancels the cluster's run of a job that GpuFleet does not count as running here; its "cancelled" end is not news.</summary>
    public void StopUnadopted(long jobId)
    {
        lock (_lock)
        {
            _tracked.Remove(jobId);
            _stopping.Add(jobId);
        }
        Enqueue(new Request(jobId, "cancel of an unadopted run", c => Executor.CancelAsync(jobId, c), []));
    }

    public bool Cancel(long jobId)
    {
        if (!Forget(jobId)) return false;
        Enqueue(new Request(jobId, "cancel", c => Executor.CancelAsync(jobId, c), []));
        return true;
    }

    public int Running
    {
        get { lock (_lock) return _tracked.Count; }
    }

    /// <summary>The runs that ended since the last call (each once), oldest first.</summary>
    public IReadOnlyList<ExecutorEvent> TakeEnds() => Take(_ends);

    /// <summary>
    /// The runs the cluster started since the last call (each once), at the cluster's start time but no
    /// earlier than GpuFleet asked for the launch. A run's start is always here before its end is in
    /// <see cref="TakeEnds"/>: take the starts first.
    /// </summary>
    public IReadOnlyList<ExecutorEvent> TakeStarts() => Take(_starts);

    private List<ExecutorEvent> Take(List<ExecutorEvent> events)
    {
        lock (_lock)
        {
            if (events.Count == 0) return [];
            var taken = events.ToList();
            events.Clear();
            return taken;
        }
    }

    private bool Forget(long jobId)
    {
        lock (_lock)
        {
            if (!_tracked.Remove(jobId)) return false;
            _stopping.Add(jobId);
            return true;
        }
    }

    private void Enqueue(Request request)
    {
        lock (_lock) _requests.Add(request);
        _wake.Release();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await CarryOutRequestsAsync(stop);
                var ends = await ObserveAsync(stop);
                try
                {
                    // A node failure says a node is gone: the inventory is taken before the loop hears of the
                    // lost runs, so that it does not place them again on that node.
                    if (ends.Any(e => e.Kind == ExecutorEventKind.NodeFailure) || _clock.GetUtcNow() - _lastInventory >= _inventoryEvery) await TakeInventoryAsync(stop);
                }
                finally
                {
                    // The cluster reports each end once: it is kept even when the inventory after it fails.
                    lock (_lock) _ends.AddRange(ends);
                    if (ends.Count > 0) _ended?.Invoke();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ExecutorUnreachableException e)
            {
                Unreachable(e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // An executor's own bug must not stop the site's loop: say so, and try again next round.
                _log.LogError(e, "executor of site {Site} failed", Site);
                Unreachable($"{e.GetType().Name}: {e.Message}");
            }
            try
            {
                await _wake.WaitAsync(_poll, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // Requests run in the order they came, except one that must wait (an eviction's cancel during the
    // grace time), which holds back only the later requests for the same job and the launches on its
    // victim's nodes: the preemptor never starts beside the run it evicted.
    private async Task CarryOutRequestsAsync(CancellationToken stop)
    {
        var held = new HashSet<long>();
        var heldNodes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; ; )
        {
            Request next;
            lock (_lock)
            {
                if (i >= _requests.Count) return;
                next = _requests[i];
                if (held.Contains(next.JobId) || next.NotBefore > _clock.GetUtcNow() || next.Kind == "launch" && next.Nodes.Any(heldNodes.Contains))
                {
                    held.Add(next.JobId);
                    if (next.Kind == "eviction") heldNodes.UnionWith(next.Nodes);
                    i++;
                    continue;
                }
            }
            try
            {
                await next.Run(stop);
                lock (_lock)
                {
                    if (next.Kind == "launch" && _tracked.TryGetValue(next.JobId, out var t)) _tracked[next.JobId] = t with { Confirmed = true };
                }
            }
            catch (ExecutorRejectedException e) when (next.Kind == "launch")
            {
                _log.LogWarning("site {Site} refused job {Job}: {Error}", Site, next.JobId, e.Message);
                lock (_lock)
                {
                    if (_tracked.Remove(next.JobId))
                        _ends.Add(new ExecutorEvent(next.JobId, ExecutorEventKind.Failed, _clock.GetUtcNow(), Detail: $"the cluster refused it: {e.Message}"));
                }
            }
            catch (ExecutorRejectedException e)
            {
                // A cancel or signal for a run the cluster no longer has: nothing left to do.
                _log.LogInformation("site {Site}: {Request} of job {Job} refused: {Error}", Site, next.Kind, next.JobId, e.Message);
            }
            Contact();
            lock (_lock) _requests.Remove(next);
        }
    }

    // One look at the cluster; answers the ends it brought (each once), which the caller publishes.
    private async Task<List<ExecutorEvent>> ObserveAsync(CancellationToken stop)
    {
        var ends = new List<ExecutorEvent>();
        var unstarted = new List<long>();
        HashSet<long> confirmedBefore;
        lock (_lock) confirmedBefore = [.. _tracked.Where(t => t.Value.Confirmed).Select(t => t.Key)];
        var seen = await Executor.ObserveAsync(stop);
        Contact();
        var now = _clock.GetUtcNow();
        lock (_lock)
        {
            var ended = new HashSet<long>();
            foreach (var e in seen.Events)
            {
                if (e.Kind == ExecutorEventKind.Started)
                {
                    if (!_tracked.TryGetValue(e.JobId, out var t)) continue;
                    if (t.Nodes is { } placed && e.Nodes is { Count: > 0 } ran && !placed.Order().SequenceEqual(ran.Order()))
                    {
                        _mismatches++;
                        _log.LogWarning("site {Site}: job {Job} started on {Ran}, not on {Placed} as placed", Site, e.JobId, string.Join(",", ran), string.Join(",", placed));
                    }
                    // The cluster's clock may differ from this one: a start is never before the launch was asked for (to
                    // the whole second: clusters report whole seconds, and Slurm's 10:00:01 may be 10:00:01.9), nor in the future.
                    var at = Clamp(e.At, t.Since.AddTicks(-(t.Since.Ticks % TimeSpan.TicksPerSecond)), now);
                    _tracked[e.JobId] = t with { StartedAt = at };
                    var where = e.Nodes is { Count: > 0 } n ? $"started on {Core.Fleets.HostList.Compress(n)}" : "started";
                    _starts.Add(e with { At = at, Detail = $"{where} by {Executor.Kind} at {Site}" });
                    continue;
                }
                ended.Add(e.JobId);
                if (_stopping.Remove(e.JobId) && e.Kind == ExecutorEventKind.Cancelled) continue;
                // An end is news only for a run GpuFleet launched (confirmed) or adopted: a cluster may still list
                // an earlier run under the same name, or a record of a submission it refused.
                if (_tracked.TryGetValue(e.JobId, out var run) && run.Confirmed && _tracked.Remove(e.JobId))
                    ends.Add(e with { At = Clamp(e.At, run.StartedAt ?? run.Since, now) });
            }
            // A run counted as running before this look, neither listed nor ended: the cluster lost it.
            var listed = seen.Runs.Select(r => r.JobId).ToHashSet();
            foreach (var id in confirmedBefore)
            {
                if (listed.Contains(id) || ended.Contains(id) || !_tracked.Remove(id)) continue;
                ends.Add(new ExecutorEvent(id, ExecutorEventKind.Lost, now, Detail: $"the cluster at {Site} has no run of it"));
            }
            _stopping.IntersectWith(listed);
            // A run the cluster accepted but has not started within launchTimeoutSeconds (it waits in the
            // cluster's own queue for something GpuFleet does not see) holds GPUs that do nothing: it is
            // cancelled there, and the job queues again.
            // Its nodes are set aside for as long again (SetAside), before the loop hears of the lost run.
            var expired = _setAside.Where(n => n.Value <= now).Select(n => n.Key).ToList();
            foreach (var node in expired) _setAside.Remove(node);
            if (expired.Count > 0)
                _log.LogInformation("site {Site}: {Nodes} take work again", Site, Core.Fleets.HostList.Compress(expired));
            var aside = new List<string>();
            // Why each run the cluster lists has not started, in its words; and whether that is the job's own doing.
            var waits = seen.Runs.Where(r => r.Waiting is not null).GroupBy(r => r.JobId).ToDictionary(g => g.Key, g => g.Last());
            // An adopted run (its launch time unknown) that the cluster lists as not started waits from when this
            // leader first sees it so: it is then counted, and timed out, as a run of its own launch would be.
            foreach (var id in waits.Keys)
                if (_tracked.TryGetValue(id, out var adopted) && adopted.Confirmed && adopted.StartedAt is null && adopted.Since == DateTimeOffset.MinValue)
                    _tracked[id] = adopted with { Since = now };
            foreach (var (id, t) in _tracked.Where(t => t.Value.Unstarted && now - t.Value.Since > _launchTimeout).ToList())
            {
                _tracked.Remove(id);
                _stopping.Add(id);
                unstarted.Add(id);
                ends.Add(new ExecutorEvent(id, ExecutorEventKind.Lost, now, Detail: $"the cluster at {Site} did not start it within {_launchTimeout.TotalSeconds:0} s"));
                var wait = waits.GetValueOrDefault(id);
                var nodes = t.Nodes is { } n ? Core.Fleets.HostList.Compress(n) : "its nodes";
                var reason = wait?.Waiting ?? "the cluster gives no reason";
                // A wait of the job's own making (its account's limits, a dependency, its image) is not its nodes' fault.
                var setsAside = wait?.WaitsOnItself != true;
                if (setsAside)
                    foreach (var node in t.Nodes ?? [])
                    {
                        if (!_setAside.ContainsKey(node)) aside.Add(node);
                        _setAside[node] = now + _setAsideFor;
                    }
                _log.LogWarning("site {Site}: the cluster did not start job {Job} within {Timeout:0} s on {Nodes} ({Reason}): cancelled there and queued again{SetAside}",
                    Site, id, _launchTimeout.TotalSeconds, nodes, reason,
                    setsAside ? FormattableString.Invariant($"; those nodes take no new work for {_setAsideFor.TotalSeconds:0} s") : "");
            }
            if (aside.Count > 0 || expired.Count > 0) Interlocked.Increment(ref _availabilityVersion);
            _waiting = Waiting(waits, now);
        }
        foreach (var id in unstarted) Enqueue(new Request(id, "cancel of an unstarted run", c => Executor.CancelAsync(id, c), []));
        return ends;
    }

    private async Task TakeInventoryAsync(CancellationToken stop)
    {
        var inventory = await Executor.InventoryAsync(stop);
        // Counted once per inventory rather than each time the site's health is asked (every cycle, every view).
        _heldByOthers = inventory.Nodes.Where(n => n.State == InventoryNodeState.Up).Sum(n => Math.Min(n.Gpus, n.GpusHeldByOthers));
        _inventory = inventory;
        // This machine's GPUs report their temperature, power and use as well (nvidia-smi), for /metrics.
        if (Executor is Executors.Local.LocalExecutor local) _telemetry = (local.NodeName, await local.TelemetryAsync(stop));
        _lastInventory = _clock.GetUtcNow();
        Contact();
        Interlocked.Increment(ref _availabilityVersion);
    }

    private void Contact()
    {
        var was = _reachable;
        lock (_lock)
        {
            _lastContact = _clock.GetUtcNow();
            _lastError = null;
        }
        _reachable = true;
        if (!was)
        {
            _log.LogWarning("site {Site} answers again", Site);
            // Take a fresh inventory before placing there again.
            _lastInventory = DateTimeOffset.MinValue;
            Interlocked.Increment(ref _availabilityVersion);
        }
    }

    private void Unreachable(string why)
    {
        lock (_lock) _lastError = why;
        if (!_reachable) return;
        _reachable = false;
        _log.LogWarning("site {Site} is unreachable, no new placements there until it answers: {Error}", Site, why);
        Interlocked.Increment(ref _availabilityVersion);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }
        await Executor.DisposeAsync();
        _stop.Dispose();
        _wake.Dispose();
    }

    // Nodes: where a launch will run, or where an eviction's victim runs.
    private sealed record Request(long JobId, string Kind, Func<CancellationToken, Task> Run, IReadOnlyList<string> Nodes, DateTimeOffset NotBefore = default);

    private static DateTimeOffset Clamp(DateTimeOffset at, DateTimeOffset earliest, DateTimeOffset latest) =>
        at < earliest ? earliest : at > latest ? latest : at;

    // The runs launched here that the cluster lists as not started (called under the lock, after this look's starts
    // and ends): what the site's health shows. A run that has waited past launchWarningSeconds is logged once, with
    // the cluster's reason: GPUs GpuFleet counts as busy do nothing, and the operator should know before the
    // launch timeout requeues it.
    private ClusterWait? Waiting(Dictionary<long, ExecutorRun> waits, DateTimeOffset now)
    {
        var unstarted = _tracked.Where(t => t.Value.Unstarted).OrderBy(t => t.Value.Since).ThenBy(t => t.Key).ToList();
        foreach (var (id, t) in unstarted.Where(t => !t.Value.Warned && now - t.Value.Since >= _launchWarning))
        {
            _tracked[id] = t with { Warned = true };
            _log.LogWarning("site {Site}: job {Job}, placed on {Nodes}, has waited {Seconds:0} s for the cluster to start it ({Reason}); at {Timeout:0} s it is cancelled there and queued again",
                Site, id, t.Nodes is { } n ? Core.Fleets.HostList.Compress(n) : "its nodes", (now - t.Since).TotalSeconds,
                waits.GetValueOrDefault(id)?.Waiting ?? "the cluster gives no reason", _launchTimeout.TotalSeconds);
        }
        if (unstarted.Count == 0) return null;
        var listed = unstarted.Take(ClusterWait.MaxListed).Select(t => new WaitingRun(t.Key, t.Value.Tenant, t.Value.Since, waits.GetValueOrDefault(t.Key)?.Waiting)).ToList();
        var oldest = listed[0];
        return new ClusterWait(unstarted.Count, oldest.Since, oldest.Job, oldest.Tenant, oldest.Reason) { Jobs = listed };
    }

    // Since: when GpuFleet asked for the launch (MinValue for an adopted run); Tenant: the job's;
    // StartedAt: the cluster's start, once heard; Warned: its wait in the cluster's queue was logged.
    private sealed record Tracked(IReadOnlyList<string>? Nodes, bool Confirmed, DateTimeOffset Since, string Tenant, DateTimeOffset? StartedAt = null, bool Warned = false)
    {
        // Launched, accepted by the cluster, and not heard started. An adopted run counts from when the cluster was first
        // seen listing it as not started (until then its launch time is not known: it may have run for days).
        public bool Unstarted => Confirmed && StartedAt is null && Since != DateTimeOffset.MinValue;
    }
}
