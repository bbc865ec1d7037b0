using System.Globalization;
using GpuFleet.Executors.Local;

namespace GpuFleet.Executors.Tests;

/// <summary>
/// A local executor on a log directory of its own, with the events it reported so far. Waits poll
/// <see cref="LocalExecutor.ObserveAsync"/> until the event comes, up to a deadline far beyond what it
/// needs (only a run that never reports fails). On dispose, whatever still runs is cancelled and awaited.
/// </summary>
internal sealed class LocalHarness : IAsyncDisposable
{
    public const string Node = "test-node";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static long _nextJobId = Random.Shared.NextInt64(1_000_000, 1_000_000_000);

    public LocalHarness(Func<LocalExecutorOptions, LocalExecutorOptions>? adjust = null)
    {
        // A directory that does not exist yet: the executor makes it.
        var logs = Path.Combine(Path.GetDirectoryName(TestFiles.Temp("executor"))!, "logs");
        Options = new LocalExecutorOptions(logs) { NodeName = Node, VirtualGpus = 4, NvidiaSmiPath = "/nonexistent/nvidia-smi", KillGrace = TimeSpan.FromSeconds(1) };
        Options = adjust?.Invoke(Options) ?? Options;
        Executor = new LocalExecutor(Options);
    }

    public LocalExecutorOptions Options { get; }
    public LocalExecutor Executor { get; private set; }

    /// <summary>Every event observed so far, oldest first.</summary>
    public List<ExecutorEvent> Seen { get; } = [];

    /// <summary>The runs of the last observation.</summary>
    public IReadOnlyList<ExecutorRun> Runs { get; private set; } = [];

    /// <summary>A job id no other test uses (tests look processes up by it).</summary>
    public static long NewJobId() => Interlocked.Increment(ref _nextJobId);

    public static ExecutorLaunch Launch(long id, string? command, int[]? gpus = null, long limit = 600, long? runtime = null, string node = Node) =>
        new(id, "test", "lab", command, limit, [new NodeGpus(node, gpus ?? [0])], runtime);

    public Task LaunchAsync(long id, string? command, int[]? gpus = null, long limit = 600, long? runtime = null) =>
        Executor.LaunchAsync(Launch(id, command, gpus, limit, runtime), CancellationToken.None);

    public async Task<ExecutorObservation> ObserveAsync()
    {
        var observation = await Executor.ObserveAsync(CancellationToken.None);
        Seen.AddRange(observation.Events);
        Runs = observation.Runs;
        return observation;
    }

    /// <summary>The first event of <paramref name="kind"/> for job <paramref name="id"/>; fails when the job ends otherwise or nothing comes.</summary>
    public async Task<ExecutorEvent> WaitForAsync(long id, ExecutorEventKind kind)
    {
        var until = DateTimeOffset.UtcNow + Deadline;
        while (true)
        {
            if (Seen.FirstOrDefault(e => e.JobId == id && e.Kind == kind) is { } found) return found;
            if (Seen.FirstOrDefault(e => e.JobId == id && e.Ends) is { } ended)
                Assert.Fail($"job {id} ended {ended.Kind} ({ended.ExitCode}, {ended.Detail}) while {kind} was awaited");
            Assert.True(DateTimeOffset.UtcNow < until, $"no {kind} for job {id} within {Deadline.TotalSeconds} s; seen: {string.Join(", ", Seen.Where(e => e.JobId == id).Select(e => e.Kind))}");
            await ObserveAsync();
            await Task.Delay(50);
        }
    }

    /// <summary>The event that ended job <paramref name="id"/>; fails when none comes.</summary>
    public async Task<ExecutorEvent> WaitForEndAsync(long id)
    {
        var until = DateTimeOffset.UtcNow + Deadline;
        while (true)
        {
            if (Seen.FirstOrDefault(e => e.JobId == id && e.Ends) is { } ended) return ended;
            Assert.True(DateTimeOffset.UtcNow < until, $"job {id} did not end within {Deadline.TotalSeconds} s");
            await ObserveAsync();
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails after the deadline.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var until = DateTimeOffset.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < until, $"{what}: not within {Deadline.TotalSeconds} s");
            await Task.Delay(50);
        }
    }

    public string Log(long id) => File.ReadAllText(Executor.LogPath(id));

    /// <summary>Drops this executor (its jobs run on, as after a server crash) and starts another on the same directory.</summary>
    public async Task RestartAsync()
    {
        await Executor.DisposeAsync();
        Seen.Clear();
        Executor = new LocalExecutor(Options);
    }

    public async ValueTask DisposeAsync()
    {
        var left = (await ObserveAsync()).Runs.Select(r => r.JobId).ToList();
        foreach (var id in left) await Executor.CancelAsync(id, CancellationToken.None);
        foreach (var id in left) await WaitForEndAsync(id);
        await Executor.DisposeAsync();
    }

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
