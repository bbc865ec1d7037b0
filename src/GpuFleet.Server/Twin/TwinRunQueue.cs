using System.Security.Cryptography;
using GpuFleet.Data;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Twin;

/// <summary>
/// The server's twin runs: a bounded queue of what-if simulations that one worker thread carries out one
/// at a time, beside the live scheduler and never in its way — at most one core, whatever the queue holds,
/// and a run is checked and refused before it queues rather than failing later.
/// <para>Bounds: <see cref="TwinSettings.MaxActiveRuns"/> queued or running in all, and
/// <see cref="TwinSettings.MaxActiveRunsPerToken"/> per token (beyond: refused, 429); finished runs are
/// kept for <see cref="TwinSettings.KeepFinishedFor"/>, at most <see cref="TwinSettings.MaxFinishedRuns"/>
/// (the oldest go first), so memory is bounded by those counts times a run's report and charts.</para>
/// <para>Example with 8 and 2: a token with two runs queued is refused a third; when the first ends, the
/// worker takes the second and the token may queue another. A run is seen by its token, its tenant's other
/// tokens and admins (<see cref="TwinRun.VisibleTo"/>); anyone else is told it does not exist.</para>
/// Runs live in this process: another replica does not know them, and a restart forgets them.
/// </summary>
public sealed class TwinRunQueue(ServerSettings settings, TwinRunner runner, TimeProvider clock, ILogger<TwinRunQueue> log) : IHostedService, IDisposable
{
    private readonly TwinSettings _limits = settings.Twin;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TwinRun> _runs = new(StringComparer.Ordinal);
    private readonly Queue<TwinRun> _waiting = new();
    private readonly SemaphoreSlim _work = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private Thread? _worker;
    private int _disposed;
    // The run the worker is carrying, until the worker lets go of it (a cancelled one included).
    private TwinRun? _carrying;

    /// <summary>Queues a run of <paramref name="request"/> for <paramref name="caller"/>, unless a limit is reached.</summary>
    public TwinAdmission Submit(Caller caller, TwinRequest request)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (RefusalLocked(caller, now) is { } refusal) return new TwinAdmission(null, refusal);
            var run = new TwinRun(NewId(), caller, request, now);
            _runs.Add(run.Id, run);
            _waiting.Enqueue(run);
            _work.Release();
            return new TwinAdmission(run, null);
        }
    }

    /// <summary>
    /// Why a run of <paramref name="caller"/>'s would be refused now, or null. Asked before an upload is
    /// read, so that a caller at a limit costs the server no parsing; <see cref="Submit"/> asks again.
    /// </summary>
    public string? Refusal(Caller caller)
    {
        lock (_lock) return RefusalLocked(caller, clock.GetUtcNow());
    }

    private string? RefusalLocked(Caller caller, DateTimeOffset now)
    {
        Prune(now);
        // A cancelled run the worker still carries counts until it lets go: the worker is busy with it.
        var active = _runs.Values.Where(r => !r.Status.Ended || ReferenceEquals(r, _carrying)).ToList();
        var mine = active.Count(r => r.Owner.TokenId == caller.TokenId);
        if (mine >= _limits.MaxActiveRunsPerToken)
            return $"you have {mine} twin runs queued or running, the most one token may have; wait for one to end, or cancel one";
        var tenant = caller.Tenant is { } t ? active.Count(r => r.Owner.Tenant == t) : 0;
        if (caller.Tenant is not null && tenant >= Math.Max(_limits.MaxActiveRunsPerTenant, _limits.MaxActiveRunsPerToken))
            return $"your tenant has {tenant} twin runs queued or running, the most one tenant may have; wait for one to end";
        if (active.Count >= _limits.MaxActiveRuns)
            return $"the server has {active.Count} twin runs queued or running, the most it takes at once; try again in a few minutes";
        return null;
    }

    /// <summary>The run <paramref name="id"/> if <paramref name="caller"/> may see it; null otherwise, or when it is unknown or forgotten.</summary>
    public TwinRun? Find(string id, Caller caller)
    {
        lock (_lock)
        {
            Prune(clock.GetUtcNow());
            return _runs.TryGetValue(id, out var run) && run.VisibleTo(caller) ? run : null;
        }
    }

    /// <summary>The runs <paramref name="caller"/> may see, newest first.</summary>
    public IReadOnlyList<TwinRun> List(Caller caller)
    {
        lock (_lock)
        {
            Prune(clock.GetUtcNow());
            return [.. _runs.Values.Where(r => r.VisibleTo(caller)).OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.Id, StringComparer.Ordinal)];
        }
    }

    /// <summary>Runs queued or running now, all users together.</summary>
    public int Active
    {
        get
        {
            lock (_lock) return _runs.Values.Count(r => !r.Status.Ended || ReferenceEquals(r, _carrying));
        }
    }

    /// <summary>A queued run's place in the queue (1: next), or null when it is not waiting.</summary>
    public int? Position(TwinRun run)
    {
        lock (_lock)
        {
            if (run.Status.State != TwinRunState.Queued) return null;
            var place = 1;
            foreach (var waiting in _waiting)
            {
                if (waiting == run) return place;
                if (waiting.Status.State == TwinRunState.Queued) place++;
            }
            return null;
        }
    }

    /// <summary>
    /// Cancels <paramref name="run"/>: a queued run never starts, a running one stops at its simulation's next
    /// instant. False when it had ended already.
    /// </summary>
    public bool Cancel(TwinRun run)
    {
        lock (_lock)
        {
            var status = run.Status;
            if (status.Ended) return false;
            run.Set(status with { State = TwinRunState.Cancelled, Stage = "cancelled", FinishedAt = clock.GetUtcNow() });
            run.Cancellation.Cancel();
            // A queued run's upload is not read again; a running one's goes when its worker lets go of it.
            if (status.State == TwinRunState.Queued) TwinValidator.Discard(run.Request.Trace);
            return true;
        }
    }

    /// <summary>Starts the worker thread.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // One thread: a run takes at most one core whatever the queue holds (the live scheduler has its own
        // thread). Below normal priority where the system lets a process lower its threads'.
        _worker = new Thread(Work) { IsBackground = true, Name = "twin-runs", Priority = ThreadPriority.BelowNormal };
        _worker.Start();
        return Task.CompletedTask;
    }

    /// <summary>Cancels what runs and waits, stops the worker, and marks queued runs cancelled.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        // A simulation stops at its next instant: moments, not minutes.
        _worker?.Join(TimeSpan.FromSeconds(10));
        lock (_lock)
        {
            foreach (var run in _runs.Values.Where(r => !r.Status.Ended))
            {
                run.Set(run.Status with { State = TwinRunState.Cancelled, Stage = "cancelled: the server stopped", FinishedAt = clock.GetUtcNow() });
                TwinValidator.Discard(run.Request.Trace);
            }
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The container disposes it twice: as itself and as the hosted service it also is.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stopping.Cancel();
        _stopping.Dispose();
        _work.Dispose();
    }

    private void Work()
    {
        while (true)
        {
            try
            {
                _work.Wait(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            TwinRun? run;
            lock (_lock)
            {
                // A run cancelled while it waited is skipped.
                if (!_waiting.TryDequeue(out run) || run.Status.State != TwinRunState.Queued) continue;
                run.Set(new TwinRunStatus(TwinRunState.Running, 0, "starting", StartedAt: clock.GetUtcNow()));
                _carrying = run;
            }
            try
            {
                Carry(run);
            }
            finally
            {
                lock (_lock) _carrying = null;
            }
        }
    }

    private void Carry(TwinRun run)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(run.Cancellation.Token, _stopping.Token);
        try
        {
            var result = runner(run.Request, (progress, stage) => Report(run, progress, stage), cancel.Token);
            lock (_lock)
            {
                var status = run.Status;
                if (status.State == TwinRunState.Running)
                    run.Succeed(result, status with { State = TwinRunState.Succeeded, Progress = 1, Stage = "done", FinishedAt = clock.GetUtcNow() });
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Cancel (or StopAsync) has said so already.
        }
        catch (Exception e)
        {
            // A trace the readers refuse is the input's fault and says so; anything else is the server's.
            var message = e is DataFileException or InvalidDataException ? e.Message : $"the simulation failed: {e.Message}";
            if (e is not (DataFileException or InvalidDataException)) log.LogError(e, "twin run {Id} failed", run.Id);
            lock (_lock)
            {
                var status = run.Status;
                if (status.State == TwinRunState.Running)
                    run.Set(status with { State = TwinRunState.Failed, Stage = "failed", Error = message, FinishedAt = clock.GetUtcNow() });
            }
        }
        finally
        {
            TwinValidator.Discard(run.Request.Trace);
        }
    }

    private void Report(TwinRun run, double progress, string stage)
    {
        lock (_lock)
        {
            var status = run.Status;
            if (status.State == TwinRunState.Running) run.Set(status with { Progress = Math.Clamp(progress, 0, 1), Stage = stage });
        }
    }

    // Forgets finished runs past their time; then, so that no tenant's runs push out another's, the
    // oldest of a tenant beyond a quarter of the count kept (admins' runs are no tenant's); then the
    // oldest beyond the count kept.
    private void Prune(DateTimeOffset now)
    {
        foreach (var run in _runs.Values.Where(r => r.Status.Ended && now - r.Status.FinishedAt > _limits.KeepFinishedFor).ToList()) _runs.Remove(run.Id);
        var perTenant = Math.Max(1, _limits.MaxFinishedRuns / 4);
        foreach (var group in _runs.Values.Where(r => r.Status.Ended && r.Owner.Tenant is not null).GroupBy(r => r.Owner.Tenant))
            foreach (var run in group.OrderByDescending(r => r.Status.FinishedAt).ThenByDescending(r => r.SubmittedAt).Skip(perTenant).ToList())
                _runs.Remove(run.Id);
        var finished = _runs.Values.Where(r => r.Status.Ended).OrderBy(r => r.Status.FinishedAt).ThenBy(r => r.SubmittedAt).ToList();
        foreach (var run in finished.Take(Math.Max(0, finished.Count - _limits.MaxFinishedRuns))) _runs.Remove(run.Id);
    }

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
