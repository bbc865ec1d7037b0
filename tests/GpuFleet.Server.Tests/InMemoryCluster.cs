using GpuFleet.Core.Fleets;
using GpuFleet.Executors;

namespace GpuFleet.Server.Tests;

/// <summary>
/// A cluster manager in memory, driven by the test: it records what it is asked to run, and reports
/// what the test makes happen (a run ends with an exit code, disappears, a node is drained) the next
/// time it is looked at. <see cref="Reachable"/> false makes every call fail as an unreachable cluster does.
/// </summary>
internal sealed class InMemoryCluster(Fleet fleet, int site) : ISiteExecutor
{
    private readonly object _lock = new();
    private readonly Dictionary<long, ExecutorLaunch> _runs = [];
    private readonly List<ExecutorEvent> _events = [];
    private readonly Dictionary<string, (InventoryNodeState State, int Held)> _nodes = [];
    // Nodes listed as the test says rather than as the fleet holds them (added, or changed), and fleet nodes not listed.
    private readonly Dictionary<string, InventoryNode> _listed = [];
    private readonly HashSet<string> _unlisted = [];
    // Runs launched while StartsRuns was false: listed without nodes, with WaitReason.
    private readonly HashSet<long> _unstarted = [];

    public volatile bool Reachable = true;
    /// <summary>False: runs launched from now on wait in the cluster's queue, never started, until <see cref="StartsRuns"/> is true again.</summary>
    public volatile bool StartsRuns = true;
    /// <summary>How many of the next launches it leaves unstarted (while <see cref="StartsRuns"/> holds), as a cluster with a reservation about to begin does.</summary>
    public int LeaveUnstarted { get; set; }
    /// <summary>What the cluster says of a run it has not started.</summary>
    public string WaitReason { get; set; } = "PENDING (Resources)";
    /// <summary>Whether that wait is the job's own doing (a bad image, its account's limits), not its nodes'.</summary>
    public bool WaitIsItsOwn { get; set; }
    public List<ExecutorLaunch> Launches { get; } = [];
    /// <summary>When each of <see cref="Launches"/> came, in the same order.</summary>
    public List<DateTimeOffset> LaunchTimes { get; } = [];
    public List<long> Cancels { get; } = [];
    public List<(long Job, ExecutorSignal Signal)> Signals { get; } = [];
    /// <summary>Launches and cancels in the order they came: "launch 3", "cancel 2".</summary>
    public List<string> Order { get; } = [];

    public string Kind => "in-memory";

    public Task LaunchAsync(ExecutorLaunch launch, CancellationToken cancel)
    {
        Check();
        lock (_lock)
        {
            if (_runs.ContainsKey(launch.JobId)) return Task.CompletedTask;
            _runs[launch.JobId] = launch;
            Launches.Add(launch);
            LaunchTimes.Add(DateTimeOffset.UtcNow);
            Order.Add($"launch {launch.JobId}");
            var starts = StartsRuns;
            if (starts && LeaveUnstarted > 0)
            {
                LeaveUnstarted--;
                starts = false;
            }
            if (starts) _events.Add(new ExecutorEvent(launch.JobId, ExecutorEventKind.Started, DateTimeOffset.UtcNow, Nodes: [.. launch.Nodes.Select(n => n.Node)]));
            else _unstarted.Add(launch.JobId);
        }
        return Task.CompletedTask;
    }

    public Task SignalAsync(long jobId, ExecutorSignal signal, CancellationToken cancel)
    {
        Check();
        lock (_lock) Signals.Add((jobId, signal));
        return Task.CompletedTask;
    }

    public Task CancelAsync(long jobId, CancellationToken cancel)
    {
        Check();
        lock (_lock)
        {
            Cancels.Add(jobId);
            Order.Add($"cancel {jobId}");
            if (_runs.Remove(jobId)) _events.Add(new ExecutorEvent(jobId, ExecutorEventKind.Cancelled, DateTimeOffset.UtcNow));
        }
        return Task.CompletedTask;
    }

    public Task<ExecutorObservation> ObserveAsync(CancellationToken cancel)
    {
        Check();
        lock (_lock)
        {
            _unstarted.IntersectWith(_runs.Keys);
            var seen = new ExecutorObservation([.. _events], [.. _runs.Values.Select(r => _unstarted.Contains(r.JobId)
                ? new ExecutorRun(r.JobId, $"x{r.JobId}", [], WaitReason, WaitIsItsOwn)
                : new ExecutorRun(r.JobId, $"x{r.JobId}", [.. r.Nodes.Select(n => n.Node)]))]);
            _events.Clear();
            return Task.FromResult(seen);
        }
    }

    public Task<SiteInventory> InventoryAsync(CancellationToken cancel)
    {
        Check();
        lock (_lock)
        {
            var nodes = new List<InventoryNode>();
            for (var n = 0; n < fleet.NodeCount; n++)
            {
                if (fleet.PoolSite(fleet.NodePool(n)) != site) continue;
                var name = fleet.NodeName(n);
                if (_unlisted.Contains(name) || _listed.ContainsKey(name)) continue;
                var (state, held) = _nodes.TryGetValue(name, out var s) ? s : (InventoryNodeState.Up, 0);
                nodes.Add(new InventoryNode(name, fleet.NodeGpus(n), "G", state, held));
            }
            nodes.AddRange(_listed.Values);
            return Task.FromResult(new SiteInventory(nodes));
        }
    }

    /// <summary>The run of <paramref name="jobId"/> ends by itself with <paramref name="exitCode"/>.</summary>
    public void Finish(long jobId, int exitCode)
    {
        lock (_lock)
            if (_runs.Remove(jobId)) _events.Add(new ExecutorEvent(jobId, ExecutorEventKind.Finished, DateTimeOffset.UtcNow, exitCode));
    }

    /// <summary>The cluster starts the run of <paramref name="jobId"/> that it had not started.</summary>
    public void Start(long jobId)
    {
        lock (_lock)
            if (_unstarted.Remove(jobId) && _runs.TryGetValue(jobId, out var launch))
                _events.Add(new ExecutorEvent(jobId, ExecutorEventKind.Started, DateTimeOffset.UtcNow, Nodes: [.. launch.Nodes.Select(n => n.Node)]));
    }

    /// <summary>The run disappears with no word of how it ended.</summary>
    public void Forget(long jobId)
    {
        lock (_lock) _runs.Remove(jobId);
    }

    /// <summary>The cluster lists <paramref name="node"/> from now on: a node added to it, or one of the fleet's listed otherwise.</summary>
    public void List(InventoryNode node)
    {
        lock (_lock)
        {
            _unlisted.Remove(node.Name);
            _listed[node.Name] = node;
        }
    }

    /// <summary>The cluster no longer lists node <paramref name="name"/> (removed from it, or not there yet).</summary>
    public void Unlist(string name)
    {
        lock (_lock)
        {
            _listed.Remove(name);
            _unlisted.Add(name);
        }
    }

    public void SetNode(string name, InventoryNodeState state, int heldByOthers = 0)
    {
        lock (_lock) _nodes[name] = (state, heldByOthers);
    }

    public bool Runs(long jobId)
    {
        lock (_lock) return _runs.ContainsKey(jobId);
    }

    private void Check()
    {
        if (!Reachable) throw new ExecutorUnreachableException("connection refused");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
