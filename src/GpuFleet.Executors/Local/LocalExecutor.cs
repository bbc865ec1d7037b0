using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace GpuFleet.Executors.Local;

/// <summary>
/// Runs jobs on this machine's GPUs (Linux): each job's command with <c>/bin/sh -c</c> in a session and
/// process group of its own (<c>setsid</c>), so that a cancel, a time limit or a signal reaches everything
/// the job started, and so that jobs outlive a server that stops or crashes: a server started again finds
/// them by their shells' arguments in <c>/proc</c> and carries on watching them.
/// </summary>
/// <remarks>
/// A job sees the GPUs of its placement as <c>CUDA_VISIBLE_DEVICES</c> (numbered as <c>nvidia-smi</c> numbers
/// them: <c>CUDA_DEVICE_ORDER=PCI_BUS_ID</c>) and its id as <c>GPUFLEET_JOB_ID</c>; a MIG slice as the UUID of a MIG
/// instance of its profile on its GPU (<c>MIG-…</c>, from <c>nvidia-smi -L</c>), a time-shared share as its GPU's index
/// with <c>CUDA_MPS_ACTIVE_THREAD_PERCENTAGE</c> = its fraction × 100, rounded up; its output goes to
/// <c>&lt;log directory&gt;/&lt;id&gt;.log</c>. An exit status above 128 is read as the shell reports a death by
/// signal (128 + the signal's number): the job failed, "killed by signal N". Which signal killed it is all
/// that is known: a SIGKILL from the kernel's out-of-memory killer is not told from another one.
/// A named installation's runs are <c>gpufleet-&lt;installation&gt;-&lt;id&gt;</c> with logs <c>&lt;installation&gt;-&lt;id&gt;.log</c>: an
/// executor takes up only its own installation's runs and exit statuses, also from a log directory another shares.
/// </remarks>
public sealed class LocalExecutor : ISiteExecutor
{
    private const string Launcher = "setsid";
    private const int HighestSignal = 64;

    private readonly LocalExecutorOptions _options;
    private readonly string _logDirectory;
    private readonly RunNames _names;
    private readonly Lock _lock = new();
    // Runs not yet reported ended, and the ids of every job that ran here: a job is launched once.
    private readonly Dictionary<long, LocalRun> _runs = [];
    private readonly HashSet<long> _ranHere = [];
    private readonly List<ExecutorEvent> _events = [];
    // Exit-status files of reported ends, removed once an observation has handed the end out.
    private readonly List<string> _reportedStatusFiles = [];
    private readonly List<Task> _watchers = [];
    private readonly CancellationTokenSource _disposed = new();
    private volatile bool _sawRealGpus;

    /// <summary>Starts an executor; jobs that a previous one started with the same log directory and that still run are watched again.</summary>
    public LocalExecutor(LocalExecutorOptions options)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the local executor runs on Linux only (process groups, /proc)");
        ArgumentException.ThrowIfNullOrWhiteSpace(options.LogDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.NodeName);
        ArgumentOutOfRangeException.ThrowIfNegative(options.VirtualGpus);
        _options = options;
        _logDirectory = Path.GetFullPath(options.LogDirectory);
        _names = new RunNames(options.Installation);
        FindRunsOfEarlierServers();
    }

    /// <inheritdoc/>
    public string Kind => "local";

    /// <summary>This machine's name in placements.</summary>
    public string NodeName => _options.NodeName;

    /// <summary>Where the output of job <paramref name="jobId"/> goes.</summary>
    public string LogPath(long jobId) => Path.Combine(_logDirectory, LogFileName(_options.Installation, jobId));

    /// <summary>
    /// The name of job <paramref name="jobId"/>'s log in its log directory: <c>&lt;id&gt;.log</c>, or for a named installation
    /// <c>&lt;installation&gt;-&lt;id&gt;.log</c>, so that two installations on one machine never write one file.
    /// </summary>
    public static string LogFileName(string? installation, long jobId) => FilePrefix(installation) + jobId.ToString(CultureInfo.InvariantCulture) + ".log";

    private static string FilePrefix(string? installation) => installation is null ? "" : installation + "-";

    private string StatusPath(long jobId) => Path.Combine(_logDirectory, FilePrefix(_options.Installation) + jobId.ToString(CultureInfo.InvariantCulture) + ".exit");

    /// <inheritdoc/>
    public async Task LaunchAsync(ExecutorLaunch launch, CancellationToken cancel)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (RanHere(launch.JobId)) return;
        var gpus = GpusHere(launch);
        var machine = await ReadGpusAsync(cancel);
        var known = machine.Gpus.Select(g => g.Index).ToHashSet();
        if (gpus.Where(g => !known.Contains(g)).Select(g => (int?)g).FirstOrDefault() is { } missing)
        {
            throw new ExecutorRejectedException($"job {launch.JobId} is placed on GPU {missing} of {_options.NodeName}, which has "
                + (known.Count == 0 ? "no GPU" : $"GPUs {string.Join(",", known.Order())}") + (machine.Virtual ? " (virtual)" : ""));
        }
        // A placeholder of unknown length runs until its time limit stops it: it sleeps a minute past the limit,
        // so that the limit, not the sleep's own end at the same second, is what ends it.
        var placeholderSeconds = launch.RuntimeSeconds ?? (launch.TimeLimitSeconds > long.MaxValue - 60 ? long.MaxValue : launch.TimeLimitSeconds + 60);
        var command = launch.Command ?? _options.PlaceholderCommand.Replace("{seconds}", placeholderSeconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        try
        {
            Directory.CreateDirectory(_logDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExecutorRejectedException($"cannot create the job log directory {_logDirectory}: {e.Message}", e);
        }
        // MIG instances are read only for a job of MIG slices on real GPUs.
        var migDevices = launch.Slices?.Any(s => s.IsMig) == true && !machine.Virtual ? await ReadMigDevicesAsync(cancel) : [];
        lock (_lock)
        {
            // A launch of the same job may have got here first while this one asked nvidia-smi.
            if (_ranHere.Contains(launch.JobId)) return;
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            var (visible, migUuids, mpsPercentage) = SliceDevices(launch, gpus, migDevices, machine.Virtual);
            var run = Start(launch, command, visible, mpsPercentage);
            run.MigDevices = migUuids;
            _runs[launch.JobId] = run;
            _ranHere.Add(launch.JobId);
            _events.Add(new ExecutorEvent(launch.JobId, ExecutorEventKind.Started, DateTimeOffset.UtcNow, Nodes: [_options.NodeName]));
            WatchLocked(run);
        }
    }

    private bool RanHere(long jobId)
    {
        lock (_lock) return _ranHere.Contains(jobId);
    }

    // The launch's GPU indices on this machine, or why it cannot run here.
    private List<int> GpusHere(ExecutorLaunch launch)
    {
        if (launch.JobId < 0) throw new ExecutorRejectedException($"job id {launch.JobId} is not a GpuFleet job id");
        if (launch.TimeLimitSeconds <= 0) throw new ExecutorRejectedException($"job {launch.JobId} has no time limit ({launch.TimeLimitSeconds} s)");
        if (launch.Command?.Contains('\0', StringComparison.Ordinal) == true) throw new ExecutorRejectedException($"job {launch.JobId}: the command holds a NUL character");
        var node = launch.Nodes switch
        {
            [] => throw new ExecutorRejectedException($"job {launch.JobId} is placed on no node"),
            [var one] when one.Node.Equals(_options.NodeName, StringComparison.OrdinalIgnoreCase) => one,
            _ => throw new ExecutorRejectedException($"job {launch.JobId} is placed on {string.Join(", ", launch.Nodes.Select(n => $"'{n.Node}'"))}, "
                + $"but this local executor runs jobs on '{_options.NodeName}' only"),
        };
        if (node.Gpus.Distinct().Count() != node.Gpus.Count) throw new ExecutorRejectedException($"job {launch.JobId} names a GPU twice: {string.Join(",", node.Gpus)}");
        return [.. node.Gpus];
    }

    // What a job sees: CUDA_VISIBLE_DEVICES and, for time-shared shares, MPS's share of the GPU's threads.
    // Whole GPUs and time-shared shares are GPU indices; a MIG instance is its UUID when nvidia-smi -L lists MIG
    // instances (a free one of its profile on its GPU: GpuFleet does not create instances, the GPU is partitioned
    // beforehand), else its GPU's index. Virtual GPUs get synthetic MIG ids, so that the path is the same.
    // Under the lock: MIG instances held by running jobs are not given twice.
    private (IReadOnlyList<string> Visible, IReadOnlyList<string> MigUuids, int? MpsPercentage) SliceDevices(
        ExecutorLaunch launch, List<int> gpus, IReadOnlyList<MigDevice> migDevices, bool virtualGpus)
    {
        if (launch.Slices is not { } slices) return ([.. gpus.Select(g => g.ToString(CultureInfo.InvariantCulture))], [], null);
        var held = _runs.Values.SelectMany(r => r.MigDevices).ToHashSet(StringComparer.Ordinal);
        var visible = new List<string>();
        var uuids = new List<string>();
        foreach (var slice in launch.SlicesOn(_options.NodeName))
        {
            if (!slice.IsMig)
            {
                var index = slice.Gpu.ToString(CultureInfo.InvariantCulture);
                if (!visible.Contains(index)) visible.Add(index);
                continue;
            }
            if (virtualGpus)
            {
                visible.Add(VirtualMigId(slice));
                continue;
            }
            var onGpu = migDevices.Where(d => d.Gpu == slice.Gpu).ToList();
            if (onGpu.Count == 0)
            {
                visible.Add(slice.Gpu.ToString(CultureInfo.InvariantCulture));
                continue;
            }
            var free = onGpu.FirstOrDefault(d => d.Profile == slice.MigProfile && !held.Contains(d.Uuid) && !uuids.Contains(d.Uuid))
                ?? throw new ExecutorRejectedException($"job {launch.JobId} is placed on a {slice.MigProfile} MIG instance of GPU {slice.Gpu} of {_options.NodeName}, "
                    + $"which has no free one (nvidia-smi -L lists {string.Join(", ", onGpu.Select(d => $"{d.Profile} device {d.Device}"))})");
            visible.Add(free.Uuid);
            uuids.Add(free.Uuid);
        }
        var shares = slices.Where(s => !s.IsMig).Select(s => s.Fraction).ToList();
        // MPS takes one percentage per process, for every GPU it sees: the job's share of each (its shares are alike).
        int? percentage = shares.Count == 0 ? null : Math.Clamp((int)Math.Ceiling(shares.Max() * 100 - 1e-9), 1, 100);
        return (visible, uuids, percentage);
    }

    /// <summary>The id a MIG slice gets on virtual GPUs, in the form of a MIG UUID: <c>MIG-virtual-3-1g.10gb-2</c> (GPU, profile, start).</summary>
    public static string VirtualMigId(GpuSlice slice) => FormattableString.Invariant($"MIG-virtual-{slice.Gpu}-{slice.MigProfile}-{slice.MigStart}");

    // The MIG instances nvidia-smi -L lists; none when it cannot say (MIG slices then get their GPU's index).
    private async Task<IReadOnlyList<MigDevice>> ReadMigDevicesAsync(CancellationToken cancel)
    {
        var (output, _) = await RunNvidiaSmiAsync(NvidiaSmiDevices.Arguments, cancel);
        return output is null ? [] : NvidiaSmiDevices.Parse(output);
    }

    private LocalRun Start(ExecutorLaunch launch, string command, IReadOnlyList<string> visible, int? mpsPercentage)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(Math.Min(launch.TimeLimitSeconds, (long)(DateTimeOffset.MaxValue - DateTimeOffset.UtcNow).TotalSeconds - 1));
        var status = StatusPath(launch.JobId);
        TryDelete(status);
        var start = new ProcessStartInfo(Launcher) { UseShellExecute = false };
        foreach (var argument in WrapperScript.Arguments(_names, launch.JobId, command, LogPath(launch.JobId), status, deadline)) start.ArgumentList.Add(argument);
        // The server's own settings (its admin token above all) are not the job's business.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("GPUFLEET_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(name);
        start.Environment["GPUFLEET_JOB_ID"] = launch.JobId.ToString(CultureInfo.InvariantCulture);
        start.Environment["CUDA_VISIBLE_DEVICES"] = string.Join(",", visible);
        // A time-shared share runs under MPS with its share of the GPU's threads (the MPS daemon is the machine's own).
        if (mpsPercentage is { } percentage) start.Environment["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = percentage.ToString(CultureInfo.InvariantCulture);
        else start.Environment.Remove("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE");
        // CUDA numbers GPUs fastest first unless told otherwise; the placement numbers them as nvidia-smi does.
        start.Environment["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ExecutorRejectedException($"job {launch.JobId}: {Launcher} did not start");
        }
        catch (Win32Exception e)
        {
            throw new ExecutorRejectedException($"job {launch.JobId}: cannot start {Launcher} (util-linux): {e.Message}", e);
        }
        // setsid makes the shell a session and group leader in place (it is not one when started), so the group's id is its pid.
        return new LocalRun(launch.JobId, process.Id, process, 0, deadline, launch.TimeLimitSeconds, status);
    }

    /// <inheritdoc/>
    public Task SignalAsync(long jobId, ExecutorSignal signal, CancellationToken cancel)
    {
        if (Running(jobId) is { } run) ProcessGroup.Signal(run.Group, signal == ExecutorSignal.Checkpoint ? ProcessGroup.SigUsr1 : ProcessGroup.SigTerm);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    /// <remarks>Returns at once; the group gets SIGTERM, then SIGKILL after the grace time, and the run is reported <see cref="ExecutorEventKind.Cancelled"/> once none of its processes runs.</remarks>
    public Task CancelAsync(long jobId, CancellationToken cancel)
    {
        Running(jobId)?.CancelRequested.TrySetResult();
        return Task.CompletedTask;
    }

    private LocalRun? Running(long jobId)
    {
        lock (_lock) return _runs.GetValueOrDefault(jobId);
    }

    /// <inheritdoc/>
    public Task<ExecutorObservation> ObserveAsync(CancellationToken cancel)
    {
        List<string> handedOut;
        ExecutorObservation observation;
        lock (_lock)
        {
            observation = new ExecutorObservation([.. _events],
                [.. _runs.Values.Select(r => new ExecutorRun(r.JobId, r.Group.ToString(CultureInfo.InvariantCulture), [_options.NodeName]))]);
            _events.Clear();
            handedOut = [.. _reportedStatusFiles];
            _reportedStatusFiles.Clear();
        }
        foreach (var file in handedOut) TryDelete(file);
        return Task.FromResult(observation);
    }

    /// <inheritdoc/>
    public async Task<SiteInventory> InventoryAsync(CancellationToken cancel)
    {
        var reading = await ReadGpusAsync(cancel);
        var model = reading.Virtual ? "virtual" : reading.Gpus.FirstOrDefault()?.Name;
        // The machine's cores and memory as this process may use them (a container's limits included).
        var memoryGb = (int)Math.Min(int.MaxValue, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30));
        return new SiteInventory([new InventoryNode(_options.NodeName, reading.Gpus.Count, model, InventoryNodeState.Up, Cpus: Environment.ProcessorCount, MemoryGb: memoryGb)]);
    }

    /// <summary>This machine's GPUs with their memory, temperature, power and utilization now (for <c>/metrics</c>).</summary>
    /// <exception cref="ExecutorUnreachableException">nvidia-smi, which found GPUs before, fails now.</exception>
    public Task<GpuReading> TelemetryAsync(CancellationToken cancel) => ReadGpusAsync(cancel);

    // nvidia-smi's answer; where it has none (not installed, no driver, no GPU), the configured virtual GPUs.
    private async Task<GpuReading> ReadGpusAsync(CancellationToken cancel)
    {
        var (output, failure) = await RunNvidiaSmiAsync(NvidiaSmiQuery.Arguments, cancel);
        var reading = output is null ? null : NvidiaSmiQuery.Parse(output);
        if (reading is { Gpus.Count: > 0 })
        {
            _sawRealGpus = true;
            return reading;
        }
        failure ??= "nvidia-smi listed no GPU" + (reading!.Problems.Count > 0 ? ": " + string.Join("; ", reading.Problems) : "");
        // GPUs do not leave a running machine: a failure after they were seen is the driver's or nvidia-smi's,
        // and reporting virtual GPUs (or none) would have the scheduler move work off real ones.
        if (_sawRealGpus) throw new ExecutorUnreachableException($"{failure} (it found GPUs on {_options.NodeName} before)");
        IReadOnlyList<GpuTelemetry> gpus = [.. Enumerable.Range(0, _options.VirtualGpus).Select(i => new GpuTelemetry(i, "virtual"))];
        return new GpuReading(gpus, [failure], Virtual: true);
    }

    // nvidia-smi's output, or why there is none.
    private async Task<(string? Output, string? Failure)> RunNvidiaSmiAsync(IReadOnlyList<string> arguments, CancellationToken cancel)
    {
        var start = new ProcessStartInfo(_options.NvidiaSmiPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            return (null, $"cannot run {_options.NvidiaSmiPath}: {e.Message}");
        }
        if (process is null) return (null, $"cannot run {_options.NvidiaSmiPath}");
        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(_options.NvidiaSmiTimeout);
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                await Task.WhenAll(stdout, stderr);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancel.ThrowIfCancellationRequested();
                return (null, $"{_options.NvidiaSmiPath} did not answer within {_options.NvidiaSmiTimeout.TotalSeconds:0} s");
            }
            if (process.ExitCode == 0) return (stdout.Result, null);
            var said = (stderr.Result + "\n" + stdout.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            return (null, $"{_options.NvidiaSmiPath} exited with {process.ExitCode}{(said is null ? "" : ": " + said)}");
        }
    }

    // Under the lock (or before the executor is shared).
    private void WatchLocked(LocalRun run)
    {
        _watchers.RemoveAll(w => w.IsCompleted);
        _watchers.Add(Task.Run(() => WatchAsync(run)));
    }

    // Waits for the run's end, its cancel or its time limit; ends what is left of its group; reports how it ended.
    private async Task WatchAsync(LocalRun run)
    {
        var stop = _disposed.Token;
        try
        {
            var exited = ExitAsync(run, stop);
            var limit = DelayUntilAsync(run.Deadline, stop);
            var first = await Task.WhenAny(exited, limit, run.CancelRequested.Task);
            if (stop.IsCancellationRequested) return;
            ExecutorEventKind? stoppedAs = first == exited ? null : first == limit ? ExecutorEventKind.TimedOut : ExecutorEventKind.Cancelled;
            // After a cancel or the time limit, the whole group; after the shell's own end, what it left running
            // in the background, which would otherwise hold the job's GPUs after its end was reported.
            await ProcessGroup.EndAsync(run.Group, _options.KillGrace, stop);
            var code = await exited;
            Report(run, stoppedAs, code);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The executor was disposed: the job runs on, and the next executor watches it again.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // A run whose end is never reported would hold its GPUs in the scheduler for good.
            lock (_lock) _events.Add(new ExecutorEvent(run.JobId, ExecutorEventKind.Lost, DateTimeOffset.UtcNow, Detail: $"its processes could not be watched: {e.Message}"));
            lock (_lock) _runs.Remove(run.JobId);
        }
    }

    // The run's exit status once its shell has ended: from the process this executor started, else from the
    // file the shell wrote (null when it was killed before it could).
    private static async Task<int?> ExitAsync(LocalRun run, CancellationToken stop)
    {
        if (run.Process is { } process)
        {
            await process.WaitForExitAsync(stop);
            return process.ExitCode;
        }
        while (ProcStat.Read(run.Group) is { IsDead: false } stat && stat.StartTicks == run.StartTicks) await Task.Delay(500, stop);
        return ReadStatus(run.StatusPath);
    }

    private static int? ReadStatus(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task DelayUntilAsync(DateTimeOffset deadline, CancellationToken stop)
    {
        // Task.Delay takes at most ~49 days; time limits may be longer.
        for (var left = deadline - DateTimeOffset.UtcNow; left > TimeSpan.Zero; left = deadline - DateTimeOffset.UtcNow)
            await Task.Delay(left < TimeSpan.FromDays(1) ? left : TimeSpan.FromDays(1), stop);
    }

    private void Report(LocalRun run, ExecutorEventKind? stoppedAs, int? code)
    {
        var now = DateTimeOffset.UtcNow;
        var end = stoppedAs switch
        {
            ExecutorEventKind.TimedOut => new ExecutorEvent(run.JobId, ExecutorEventKind.TimedOut, now, code,
                run.TimeLimitSeconds is { } limit ? $"stopped at its time limit of {limit} s" : "stopped at its time limit"),
            ExecutorEventKind.Cancelled => new ExecutorEvent(run.JobId, ExecutorEventKind.Cancelled, now, code, "cancelled"),
            _ => Ended(run.JobId, code, now),
        };
        lock (_lock)
        {
            run.Ended = true;
            _runs.Remove(run.JobId);
            _events.Add(end);
            _reportedStatusFiles.Add(run.StatusPath);
        }
        run.Process?.Dispose();
    }

    // A run that ended by itself, as its exit status tells.
    private static ExecutorEvent Ended(long jobId, int? code, DateTimeOffset at) => code switch
    {
        null => new ExecutorEvent(jobId, ExecutorEventKind.Lost, at, null, "it ended while no GpuFleet server watched it, and left no exit status"),
        > 128 and <= 128 + HighestSignal => new ExecutorEvent(jobId, ExecutorEventKind.Failed, at, code, $"killed by signal {code - 128}"),
        _ => new ExecutorEvent(jobId, ExecutorEventKind.Finished, at, code, $"exit code {code}"),
    };

    // Jobs started by an earlier server with this log directory: the ones still running are watched again, and
    // the ends of those that stopped meanwhile (an exit status left, never reported) are reported.
    private void FindRunsOfEarlierServers()
    {
        foreach (var pid in ProcStat.AllPids())
        {
            if (ProcStat.Read(pid) is not { IsDead: false } stat || stat.Group != pid || stat.Session != pid) continue;
            if (WrapperScript.Recognize(_names, ProcStat.CommandLine(pid)) is not { } found || found.LogPath != LogPath(found.JobId)) continue;
            var run = new LocalRun(found.JobId, pid, null, stat.StartTicks, found.Deadline, null, StatusPath(found.JobId));
            _runs[found.JobId] = run;
            _ranHere.Add(found.JobId);
            WatchLocked(run);
        }
        if (!Directory.Exists(_logDirectory)) return;
        var prefix = FilePrefix(_options.Installation);
        foreach (var file in Directory.EnumerateFiles(_logDirectory, prefix + "*.exit"))
        {
            // Another installation's (named ones start with a letter, and never with this one's name and '-' then digits only).
            if (!long.TryParse(Path.GetFileNameWithoutExtension(file).AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || _ranHere.Contains(id)) continue;
            _ranHere.Add(id);
            _events.Add(Ended(id, ReadStatus(file), File.GetLastWriteTimeUtc(file)));
            _reportedStatusFiles.Add(file);
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind, it reports the same end once more after a restart; the core takes an end it knows already.
        }
    }

    /// <summary>Stops watching; the jobs go on running (in sessions of their own) for the next executor to find.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        await _disposed.CancelAsync();
        Task[] watchers;
        lock (_lock) watchers = [.. _watchers];
        await Task.WhenAll(watchers);
        lock (_lock)
        {
            foreach (var run in _runs.Values) run.Process?.Dispose();
        }
        _disposed.Dispose();
    }
}
