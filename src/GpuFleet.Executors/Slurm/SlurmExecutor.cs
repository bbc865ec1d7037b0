using System.Globalization;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// Runs GpuFleet's jobs as Slurm batch jobs. Each is named <c>gpufleet-&lt;id&gt;</c> (<c>gpufleet-&lt;installation&gt;-&lt;id&gt;</c>
/// for a named installation, <see cref="RunNames"/>), which is how it is found again (after a crash, by a new leader)
/// and told apart from the cluster's other work, another installation's included: those count as the cluster's own
/// users' in the inventory. The tenant is in its comment. One <c>squeue</c> (or <c>GET /jobs</c> of slurmrestd) per observation covers every
/// job; accounting is asked only about jobs the controller has forgotten.
/// </summary>
/// <remarks>
/// <para>Placement: Slurm gets the nodes (<c>--nodelist</c>) and GPUs per node (<c>--gres=gpu:N</c>); it
/// chooses which GPU indices, as GRES requests cannot name them. A job with different GPU counts on
/// its nodes (12 GPUs as 8 + 4) is submitted as a heterogeneous job, one component per GPU count, so
/// that it holds exactly the GPUs placed instead of the largest count on every node; its batch script
/// runs on the first component's first node (as for any batch job) and sees the others in
/// <c>SLURM_JOB_NODELIST_HET_GROUP_*</c>. Slurm starts heterogeneous jobs from its backfill pass only,
/// so they start up to <c>bf_interval</c> (30 s by default) later.</para>
/// <para>GPU slices: a MIG instance is asked for as the GPU type Slurm's MIG support names after its profile
/// (<c>--gres=gpu:1g.23gb:1</c>), a time-shared share as shards (<c>--gres=shard:N</c>, N = the share's fraction of
/// <see cref="SlurmExecutorOptions.ShardsPerGpu"/>, rounded up). Slurm chooses the instance or the GPU on the node.</para>
/// <para>CPU cores and memory: per GPU or MIG instance (<c>--cpus-per-gpu</c>, <c>--mem-per-gpu</c>, rounded up to
/// whole cores and MB); for shards, which are not GPUs, the node's total (<c>--cpus-per-task</c> of its one task, <c>--mem</c>).</para>
/// <para>Time limits are whole minutes in Slurm: the limit is rounded up.</para>
/// <para>Signals: the batch script ignores SIGUSR1 for itself (<c>trap : USR1</c>) so that a checkpoint
/// request reaches the command's processes without ending the script around them.</para>
/// </remarks>
public sealed class SlurmExecutor : ISiteExecutor
{
    private readonly SlurmExecutorOptions _options;
    private readonly ISlurmClient _slurm;
    private readonly TimeProvider _clock;
    private readonly RunNames _names;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _observing = new(1, 1);
    // Runs this executor knows, by Slurm run id; and the newest run of each GpuFleet job.
    private readonly Dictionary<string, Tracked> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _newest = [];
    // Launches whose submission may or may not have reached Slurm (it failed or timed out): the next one looks first.
    private readonly HashSet<long> _unsure = [];
    private bool _observed;

    /// <summary>An executor over the Slurm tools.</summary>
    public SlurmExecutor(SlurmExecutorOptions options)
        : this(options, new SlurmCommandLineClient(options, new SlurmProcessTools(options)), TimeProvider.System)
    {
    }

    /// <summary>An executor over slurmrestd, Slurm's REST API (<see cref="SlurmRestOptions"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> names sbatch arguments, which only the tools take, or <paramref name="rest"/> both a token and a token file.</exception>
    public SlurmExecutor(SlurmExecutorOptions options, SlurmRestOptions rest)
        : this(options, new SlurmRestClient(
            options.ExtraSbatchArguments is { Count: > 0 } ? throw new ArgumentException("extra sbatch arguments apply to the command-line tools, not to slurmrestd", nameof(options)) : options,
            rest), TimeProvider.System)
    {
    }

    internal SlurmExecutor(SlurmExecutorOptions options, ISlurmClient slurm, TimeProvider clock)
    {
        _options = options;
        _slurm = slurm;
        _clock = clock;
        _names = new RunNames(options.Installation);
    }

    /// <inheritdoc/>
    public string Kind => "slurm";

    /// <inheritdoc/>
    public async Task LaunchAsync(ExecutorLaunch launch, CancellationToken cancel)
    {
        if (launch.Nodes.Count == 0) throw new ExecutorRejectedException($"job {launch.JobId} is placed on no nodes");
        var name = _names.Of(launch.JobId);
        var placed = launch.Nodes.Select(n => n.Node).ToList();
        // Slurm is asked whether a run of the job already exists unless this executor's own records
        // answer it: after a look at the cluster, a job that look did not list, and that this executor
        // has not tried to submit since, has no run (only this installation names runs gpufleet-[<installation>-]<id>,
        // and only its leader launches). That saves one squeue per launch, half the cost of a launch.
        bool look;
        lock (_gate) look = !_observed || _newest.ContainsKey(launch.JobId) || !_unsure.Add(launch.JobId);
        if (look)
        {
            var live = await _slurm.FindLiveRunsAsync(name, cancel).ConfigureAwait(false);
            if (live.Count > 0)
            {
                Track(launch.JobId, live.MaxBy(RunOrder)!, placed);
                lock (_gate) _unsure.Remove(launch.JobId);
                return;
            }
            lock (_gate) _unsure.Add(launch.JobId);
        }
        var runId = await _slurm.SubmitAsync(Submission(launch), cancel).ConfigureAwait(false);
        Track(launch.JobId, runId, placed);
        lock (_gate) _unsure.Remove(launch.JobId);
    }

    /// <inheritdoc/>
    public async Task SignalAsync(long jobId, ExecutorSignal signal, CancellationToken cancel)
    {
        var runs = await RunsOfAsync(jobId, cancel).ConfigureAwait(false);
        await _slurm.SignalAsync(runs, signal == ExecutorSignal.Checkpoint ? "USR1" : "TERM", cancel).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task CancelAsync(long jobId, CancellationToken cancel)
    {
        var runs = await RunsOfAsync(jobId, cancel).ConfigureAwait(false);
        await _slurm.CancelAsync(runs, cancel).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<ExecutorObservation> ObserveAsync(CancellationToken cancel)
    {
        await _observing.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await ObserveOnceAsync(cancel).ConfigureAwait(false);
        }
        finally
        {
            _observing.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<SiteInventory> InventoryAsync(CancellationToken cancel)
    {
        var nodes = await _slurm.NodesAsync(cancel).ConfigureAwait(false);
        var jobs = await _slurm.JobsAsync(cancel).ConfigureAwait(false);
        // GPUs GpuFleet's own jobs hold on each node; the rest of what Slurm counts as used is others'.
        // (sinfo's per-node count is exact even for jobs that asked for GPUs per job or per task, which
        // squeue cannot place on nodes.)
        var own = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var job in jobs.Where(j => _names.JobIdOf(j.Name) is not null && HoldsNodes(j.State)))
            foreach (var node in job.Nodes)
                own[node] = own.GetValueOrDefault(node) + job.GpusPerNode;
        return new SiteInventory([.. nodes.Select(n => new InventoryNode(
            n.Name, n.Gpus, n.Model, StateOf(n.State), Math.Max(0, n.GpusUsed - own.GetValueOrDefault(n.Name)), Cpus: n.Cpus, MemoryGb: n.MemoryGb))]);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        (_slurm as IDisposable)?.Dispose();
        _observing.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>What <paramref name="launch"/> asks of Slurm.</summary>
    internal SlurmSubmission Submission(ExecutorLaunch launch)
    {
        // Nodes that get the same resources form one component, in the order first placed.
        var components = launch.Nodes
            .Select(n => (n.Node, Gres: GresOn(launch, n), Units: launch.UnitsOn(n.Node)))
            .GroupBy(n => (Text: string.Join(',', n.Gres.Select(g => g.Text(""))), n.Units))
            .Select(g => new SlurmComponent([.. g.Select(n => n.Node)], g.First().Gres, g.Key.Units, launch.CpusPerGpu, launch.MemoryGbPerGpu))
            .ToList();
        var minutes = Math.Max(1, (launch.TimeLimitSeconds + 59) / 60);
        var command = launch.Command ?? "sleep " + (launch.RuntimeSeconds ?? launch.TimeLimitSeconds).ToString(CultureInfo.InvariantCulture);
        var output = _options.OutputDirectory is { Length: > 0 } dir
            ? Path.Combine(dir, _names.Of(launch.JobId) + ".out")
            : "/dev/null";
        return new SlurmSubmission(
            _names.Of(launch.JobId),
            launch.Tenant,
            _options.UseTenantAsAccount ? launch.Tenant : null,
            minutes,
            components,
            output,
            // Without the trap, SIGUSR1 would end the batch shell (its default action) and with it the
            // job, even when the command itself handles the signal and saves a checkpoint.
            "trap : USR1\n" + command);
    }

    // What one node gives the job: its whole GPUs; or its MIG instances, counted per profile as GPU types;
    // or, for time-shared shares, shards: each share its fraction of the node's shards per GPU, rounded up.
    private List<SlurmGres> GresOn(ExecutorLaunch launch, NodeGpus node)
    {
        if (launch.Slices is null) return node.Gpus.Count > 0 ? [new SlurmGres("gpu", null, node.Gpus.Count)] : [];
        var slices = launch.SlicesOn(node.Node);
        var gres = slices.Where(s => s.IsMig).GroupBy(s => s.MigProfile!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SlurmGres("gpu", g.Key, g.Count())).ToList();
        var shards = slices.Where(s => !s.IsMig).Sum(s => Math.Max(1, (int)Math.Ceiling(s.Fraction * _options.ShardsPerGpu - 1e-9)));
        if (shards > 0) gres.Add(new SlurmGres("shard", null, shards));
        return gres;
    }

    private async Task<ExecutorObservation> ObserveOnceAsync(CancellationToken cancel)
    {
        // Only runs known before squeue answers can be missing from its answer: one submitted meanwhile
        // is simply not in it yet.
        HashSet<string> knownBefore;
        lock (_gate) knownBefore = [.. _runs.Where(r => !r.Value.Ended).Select(r => r.Key)];

        var jobs = await _slurm.JobsAsync(cancel).ConfigureAwait(false);
        var now = _clock.GetUtcNow();
        var listed = Combine(jobs.Where(j => _names.JobIdOf(j.Name) is not null));
        var events = new List<ExecutorEvent>();
        var runs = new List<ExecutorRun>();
        var warn = new List<string>();
        List<string> missing;
        lock (_gate)
        {
            // Every listed run first, so that each job's newest run is known before any is reported.
            foreach (var run in listed.Values) TrackLocked(_names.JobIdOf(run.Name)!.Value, run.RunId, placed: null);
            foreach (var run in listed.Values.OrderBy(r => r.RunId, Comparer<string>.Create(CompareRunIds)))
            {
                var jobId = _names.JobIdOf(run.Name)!.Value;
                var tracked = _runs[run.RunId];
                if (IsLive(run.State))
                    runs.Add(IsStarted(run.State)
                        ? new ExecutorRun(jobId, run.RunId, run.Nodes)
                        : new ExecutorRun(jobId, run.RunId, [], Waiting: StateAndReason(run), WaitsOnItself: WaitsOnItself(run.Reason)));
                // Only the newest run of a job speaks for it: an older one (cancelled before the job was
                // launched again) must not end the job's current run.
                if (_newest[jobId] != run.RunId)
                {
                    tracked.Ended = true;
                    continue;
                }
                Report(run, tracked, events, now);
                if (!tracked.Ended && tracked.Started && !tracked.Warned && _options.CheckpointGraceSeconds > 0
                    && run.State == "RUNNING" && run.End is { } limit && limit - now <= TimeSpan.FromSeconds(_options.CheckpointGraceSeconds))
                    warn.Add(run.RunId);
            }
            missing = [.. knownBefore.Where(id => !listed.ContainsKey(id) && _runs.TryGetValue(id, out var t) && !t.Ended)];
            // What squeue has forgotten and was reported is done with.
            foreach (var id in _runs.Where(r => r.Value.Ended && !listed.ContainsKey(r.Key)).Select(r => r.Key).ToList())
                Forget(id);
            _observed = true;
        }

        if (missing.Count > 0) await ReportMissingAsync(missing, events, now, cancel).ConfigureAwait(false);
        if (warn.Count > 0) await WarnAsync(warn, cancel).ConfigureAwait(false);
        return new ExecutorObservation([.. events.OrderBy(e => e.At)], runs);
    }

    // Ends of runs squeue no longer lists, from accounting when the cluster keeps it.
    private async Task ReportMissingAsync(List<string> missing, List<ExecutorEvent> events, DateTimeOffset now, CancellationToken cancel)
    {
        SlurmAccounting accounting;
        try
        {
            accounting = await _slurm.AccountingAsync(missing, cancel).ConfigureAwait(false);
        }
        catch (ExecutorUnreachableException)
        {
            // Accounting may know the end later; until it answers these runs stay as they are.
            return;
        }
        var records = Combine(accounting.Jobs);
        lock (_gate)
        {
            foreach (var id in missing)
            {
                if (!_runs.TryGetValue(id, out var tracked) || tracked.Ended) continue;
                if (records.TryGetValue(id, out var record) && !IsLive(record.State))
                {
                    Report(record, tracked, events, now);
                    continue;
                }
                var why = !accounting.Available
                    ? $"and accounting is not available ({accounting.Detail})"
                    : record is null ? "and accounting has no record of it" : $"but accounting still has it {record.State}";
                events.Add(new ExecutorEvent(tracked.JobId, ExecutorEventKind.Lost, now,
                    Detail: $"Slurm job {id} is no longer known to the controller {why}: how it ended is unknown"));
                tracked.Ended = true;
            }
        }
    }

    // Asks running jobs near their time limit to checkpoint, once each; if Slurm cannot be told now,
    // the next observation tries again.
    private async Task WarnAsync(List<string> runIds, CancellationToken cancel)
    {
        try
        {
            await _slurm.SignalAsync(runIds, "USR1", cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ExecutorUnreachableException or ExecutorRejectedException)
        {
            return;
        }
        lock (_gate)
            foreach (var id in runIds)
                if (_runs.TryGetValue(id, out var tracked)) tracked.Warned = true;
    }

    // Started when first seen running (or over, having run), then its end, each once.
    private static void Report(SlurmJob run, Tracked tracked, List<ExecutorEvent> events, DateTimeOffset now)
    {
        if (tracked.Ended) return;
        var over = !IsLive(run.State);
        if (!tracked.Started && (IsStarted(run.State) || (over && run.Nodes.Count > 0)))
        {
            events.Add(new ExecutorEvent(tracked.JobId, ExecutorEventKind.Started, run.Start ?? now,
                Detail: StartDetail(run, tracked.Placed), Nodes: run.Nodes));
            tracked.Started = true;
        }
        if (!over) return;
        var (kind, exitCode, detail) = EndOf(run);
        events.Add(new ExecutorEvent(tracked.JobId, kind, run.End ?? now, exitCode, detail));
        tracked.Ended = true;
    }

    private static string StartDetail(SlurmJob run, IReadOnlyList<string>? placed)
    {
        if (placed is null || new HashSet<string>(placed, StringComparer.Ordinal).SetEquals(run.Nodes))
            return $"Slurm job {run.RunId}";
        return $"Slurm started it on {HostList.Compress(run.Nodes)}, not {HostList.Compress(placed)} as placed (Slurm job {run.RunId})";
    }

    /// <summary>What a run's final Slurm state means for GpuFleet.</summary>
    internal static (ExecutorEventKind Kind, int? ExitCode, string Detail) EndOf(SlurmJob run)
    {
        var said = $"Slurm job {run.RunId}: {StateAndReason(run)}";
        var ran = run.Nodes.Count > 0;
        // A signal that ended the script is reported the way a shell would: 128 + the signal. A job that
        // never ran has no exit code (the controller writes 1 into it when it refuses one).
        int? exit = !ran ? null : run.Signal != 0 ? 128 + run.Signal : run.ExitCode;
        var signalled = ran && run.Signal != 0 ? $", killed by signal {run.Signal}" : "";
        return run.State switch
        {
            "COMPLETED" => (ExecutorEventKind.Finished, exit, said),
            // The script ran and ended with an error or was killed by a signal: it ended by itself, with
            // that code (sacct gives no reason: None). Anything else (a launch or prolog failure, a job
            // the controller refused) is the cluster's failure.
            "FAILED" when ran && (run.Reason is "NonZeroExitCode" or "None" || run.Signal != 0) => (ExecutorEventKind.Finished, exit, said + signalled),
            "FAILED" or "BOOT_FAIL" or "SPECIAL_EXIT" => (ExecutorEventKind.Failed, exit, said + signalled),
            "TIMEOUT" or "DEADLINE" => (ExecutorEventKind.TimedOut, null, said),
            "OUT_OF_MEMORY" => (ExecutorEventKind.OutOfMemory, null, said),
            "NODE_FAIL" => (ExecutorEventKind.NodeFailure, null, said),
            "PREEMPTED" => (ExecutorEventKind.Cancelled, null, said + ": preempted by Slurm"),
            "CANCELLED" or "REVOKED" => (ExecutorEventKind.Cancelled, null, said),
            _ => (ExecutorEventKind.Failed, exit, said),
        };
    }

    // The components of each heterogeneous job as one run: the leader's state and exit, every component's
    // nodes, from the first component's start to the last one's end. Slurm starts the components in one pass
    // but stamps each with its own clock second, so they may start a second apart; the GPUs are held from
    // the earliest.
    private static Dictionary<string, SlurmJob> Combine(IEnumerable<SlurmJob> jobs) =>
        jobs.GroupBy(j => j.RunId, StringComparer.Ordinal).ToDictionary(g => g.Key, g =>
        {
            var parts = g.OrderBy(j => j.Component).ToList();
            return parts.Count == 1 ? parts[0] : parts[0] with
            {
                Nodes = [.. parts.SelectMany(p => p.Nodes).Distinct(StringComparer.Ordinal)],
                Start = parts.Min(p => p.Start),
                End = parts.Max(p => p.End),
            };
        }, StringComparer.Ordinal);

    private async Task<IReadOnlyList<string>> RunsOfAsync(long jobId, CancellationToken cancel)
    {
        lock (_gate)
            if (_newest.TryGetValue(jobId, out var known) && _runs.TryGetValue(known, out var tracked) && !tracked.Ended)
                return [known];
        return await _slurm.FindLiveRunsAsync(_names.Of(jobId), cancel).ConfigureAwait(false);
    }

    private void Track(long jobId, string runId, IReadOnlyList<string>? placed)
    {
        lock (_gate) TrackLocked(jobId, runId, placed);
    }

    private void TrackLocked(long jobId, string runId, IReadOnlyList<string>? placed)
    {
        if (!_runs.TryGetValue(runId, out var tracked)) _runs[runId] = tracked = new Tracked(jobId);
        if (placed is not null) tracked.Placed = placed;
        if (!_newest.TryGetValue(jobId, out var newest) || CompareRunIds(runId, newest) > 0) _newest[jobId] = runId;
    }

    private void Forget(string runId)
    {
        var jobId = _runs[runId].JobId;
        _runs.Remove(runId);
        if (_newest.TryGetValue(jobId, out var newest) && newest == runId) _newest.Remove(jobId);
    }

    private static long RunOrder(string runId) => long.TryParse(runId, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static int CompareRunIds(string? a, string? b)
    {
        var byNumber = RunOrder(a ?? "").CompareTo(RunOrder(b ?? ""));
        return byNumber != 0 ? byNumber : string.CompareOrdinal(a, b);
    }

    /// <summary>Whether a job in Slurm state <paramref name="state"/> is not over (it may still run, or runs).</summary>
    internal static bool IsLive(string state) => state is "PENDING" or "CONFIGURING" or "RUNNING" or "COMPLETING" or "SUSPENDED"
        or "STOPPED" or "SIGNALING" or "STAGE_OUT" or "RESIZING" or "REQUEUED" or "REQUEUE_FED" or "REQUEUE_HOLD"
        or "RESV_DEL_HOLD" or "POWER_UP_NODE" or "UPDATE_DB" or "EXPEDITING";

    // States in which it has started on its nodes.
    // "PENDING (Resources)", "TIMEOUT (TimeLimit)"; the state alone when Slurm gives no reason.
    private static string StateAndReason(SlurmJob run) => run.Reason is "None" or "" ? run.State : $"{run.State} ({run.Reason})";

    // Slurm's pending reasons that are the job's own (its association's or QOS's limits, a dependency, a hold, a bad
    // account or partition limit), not its nodes': Resources, Priority, ReqNodeNotAvail, Reservation and the like are the nodes'.
    private static bool WaitsOnItself(string reason) =>
        reason.StartsWith("Assoc", StringComparison.Ordinal) || reason.StartsWith("QOS", StringComparison.Ordinal)
        || reason.StartsWith("Dependency", StringComparison.Ordinal) || reason.StartsWith("JobHeld", StringComparison.Ordinal)
        || reason.StartsWith("Invalid", StringComparison.Ordinal) || reason.StartsWith("Partition", StringComparison.Ordinal)
        || reason is "AccountNotAllowed" or "BadConstraints";

    private static bool IsStarted(string state) => state is "RUNNING" or "COMPLETING" or "SUSPENDED" or "STOPPED"
        or "SIGNALING" or "STAGE_OUT" or "RESIZING";

    // States in which it holds its nodes' GPUs.
    private static bool HoldsNodes(string state) => IsStarted(state) || state == "CONFIGURING";

    /// <summary>A node's Slurm state (<c>mixed+drain</c>, <c>idle*</c>, <c>down+not_responding</c>) as GpuFleet's.</summary>
    internal static InventoryNodeState StateOf(string state)
    {
        // The base state and its flags; a trailing symbol is sinfo's short form of a flag (* = not responding).
        var words = state.ToLowerInvariant().Split('+').Select(w => w.Trim()).ToList();
        if (words[0].EndsWith('*')) words.Add("not_responding");
        words = [.. words.Select(w => w.TrimEnd('*', '~', '#', '!', '%', '$', '@', '^', '-'))];
        if (words.Any(w => w is "down" or "not_responding" or "unknown" or "future" or "inval" or "no_respond")) return InventoryNodeState.Down;
        if (words.Any(w => w is "drain" or "drained" or "draining" or "fail" or "failing" or "maint" or "reserved"
            or "reboot_requested" or "reboot_issued" or "reboot" or "powering_down" or "power_down")) return InventoryNodeState.Drained;
        return InventoryNodeState.Up;
    }

    private sealed class Tracked(long jobId)
    {
        public long JobId { get; } = jobId;
        /// <summary>The nodes GpuFleet placed it on; null for a run found on the cluster.</summary>
        public IReadOnlyList<string>? Placed { get; set; }
        public bool Started { get; set; }
        public bool Ended { get; set; }
        public bool Warned { get; set; }
    }
}
