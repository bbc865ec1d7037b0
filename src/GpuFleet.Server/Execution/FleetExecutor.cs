using GpuFleet.Core.Decisions;
using GpuFleet.Core.Execution;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;
using GpuFleet.Executors;

namespace GpuFleet.Server.Execution;

/// <summary>
/// The live service's executor: each site's placements go to that site's executor as the fleet file
/// names it, through a <see cref="SiteAgent"/> that talks to the cluster in the background; sites without
/// one run on the twin's <see cref="SimulatedExecutor"/>, on the same clock. To the scheduling loop it is
/// one <see cref="IJobExecutor"/>: launches and stops are queued, and <see cref="Ended"/> returns what
/// every site reported since the last cycle.
/// </summary>
/// <remarks>
/// Example: a 16-GPU job placed on nodes hpc-b200-0001 and -0002 of a Slurm site becomes a launch of
/// job gpufleet-42 on those two nodes with GPUs 0-7 each; when Slurm reports it finished with exit code
/// 3, the next cycle's <see cref="Ended"/> returns it as <see cref="RunOutcome.Failed"/> ("exit code 3").
/// </remarks>
public sealed class FleetExecutor : IJobExecutor, IAsyncDisposable
{
    private readonly Fleet _fleet;
    private readonly IJobExecutor _simulated;
    private readonly SiteAgent?[] _agents;
    private readonly Func<long, LaunchDetails> _details;
    private readonly Func<DateTimeOffset, long> _toClock;
    private readonly Dictionary<long, int> _siteOf = [];
    // When each run that Ended returned last ended, as its cluster reported it (the core's clock has whole seconds).
    private readonly Dictionary<long, DateTimeOffset> _reportedEnds = [];
    private readonly long[] _availabilitySeen;
    // Each site's nodes, found once: korea-2030 has 55,036 nodes.
    private readonly int[][] _siteNodes;

    internal FleetExecutor(Fleet fleet, IJobExecutor simulated, IReadOnlyList<SiteAgent?> agents, Func<long, LaunchDetails> details, Func<DateTimeOffset, long> toClock)
    {
        _fleet = fleet;
        _simulated = simulated;
        _agents = [.. agents];
        _details = details;
        _toClock = toClock;
        _availabilitySeen = Enumerable.Repeat(-1L, _agents.Length).ToArray();
        _siteNodes = [.. Enumerable.Range(0, _agents.Length).Select(site => _agents[site] is null ? []
            : Enumerable.Range(0, fleet.NodeCount).Where(n => fleet.PoolSite(fleet.NodePool(n)) == site).ToArray())];
        foreach (var a in _agents) a?.Start();
    }

    /// <summary>What a launch needs beyond the job's spec: its name, its command, and a simulated run's length.</summary>
    public sealed record LaunchDetails(string Name, string? Command, long? RuntimeSeconds);

    /// <summary>Each site that runs on a real cluster, as its executor stands.</summary>
    public IReadOnlyList<SiteHealth> Health => [.. _agents.OfType<SiteAgent>().Select(a => a.Health())];

    /// <summary>The GPUs of local sites' machines as last read: site, node, and each GPU's readings.</summary>
    public IEnumerable<(string Site, string Node, Executors.Local.GpuTelemetry Gpu)> Telemetry =>
        _agents.OfType<SiteAgent>().SelectMany(a => a.Telemetry is { } t && !t.Reading.Virtual ? t.Reading.Gpus.Select(g => (a.Site, t.Node, g)) : []);

    /// <inheritdoc />
    public void Launch(JobSpec job, PlacementDecision placement, long now)
    {
        if (_agents[placement.Site] is not { } agent)
        {
            _simulated.Launch(job, placement, now);
            return;
        }
        var details = _details(job.Id);
        var nodes = placement.Gpus.Select(g => new NodeGpus(_fleet.NodeName(g.Node), g.Positions())).ToList();
        _siteOf[job.Id] = placement.Site;
        agent.Launch(new ExecutorLaunch(job.Id, details.Name, job.Tenant, details.Command, job.TimeLimitSeconds, nodes, details.RuntimeSeconds)
        {
            CpusPerGpu = job.CpusPerGpu,
            MemoryGbPerGpu = job.MemoryGbPerGpu,
            Slices = placement.Slices?.Select(s => new GpuSlice(_fleet.NodeName(s.Node), s.Gpu, s.MigProfile, s.MigStart, s.Fraction, s.MemoryGb)).ToList(),
        });
    }

    /// <summary>Counts a run that a cluster already has as running (a new leader taking over); false where the site has no cluster.</summary>
    public bool Adopt(long jobId, string tenant, int site, IReadOnlyList<string>? nodes)
    {
        if (_agents[site] is not { } agent) return false;
        _siteOf[jobId] = site;
        agent.Adopt(jobId, tenant, nodes);
        return true;
    }

    /// <summary>
    /// Sets aside again, at a site with a cluster, the nodes a previous leader had set aside there (<see cref="SiteAgent.RestoreSetAside"/>);
    /// names that are not the site's nodes in this fleet (a view published under another fleet file) are ignored.
    /// </summary>
    public void RestoreSetAside(int site, IReadOnlyDictionary<string, DateTimeOffset> until)
    {
        if (_agents[site] is not { } agent) return;
        var nodes = _siteNodes[site].Select(_fleet.NodeName).ToHashSet(StringComparer.Ordinal);
        agent.RestoreSetAside(until.Where(n => nodes.Contains(n.Key)).ToDictionary(n => n.Key, n => n.Value, StringComparer.Ordinal));
    }

    /// <summary>
    /// Cancels a run that a cluster has of a job GpuFleet does not take up where it runs (a new leader that cannot
    /// adopt it): the job queues again, and a launch of it later, here or elsewhere, comes after this cancel.
    /// </summary>
    public void StopUnadopted(long jobId, int site)
    {
        _siteOf.Remove(jobId);
        _agents[site]?.StopUnadopted(jobId);
    }

    /// <inheritdoc />
    public bool Evict(long jobId, long now) =>
        _siteOf.Remove(jobId, out var site) ? _agents[site]!.Evict(jobId) : _simulated.Evict(jobId, now);

    /// <inheritdoc />
    public bool Cancel(long jobId, long now) =>
        _siteOf.Remove(jobId, out var site) ? _agents[site]!.Cancel(jobId) : _simulated.Cancel(jobId, now);

    /// <inheritdoc />
    public IReadOnlyList<RunEnd> Ended(long now)
    {
        var ended = new List<RunEnd>(_simulated.Ended(now));
        _reportedEnds.Clear();
        foreach (var agent in _agents.OfType<SiteAgent>())
            foreach (var e in agent.TakeEnds())
            {
                _siteOf.Remove(e.JobId);
                _reportedEnds[e.JobId] = e.At;
                ended.Add(EndOf(e, Math.Min(now, _toClock(e.At))));
            }
        return [.. ended.OrderBy(e => e.At).ThenBy(e => e.JobId)];
    }

    /// <summary>When a run of the latest <see cref="Ended"/> ended as its cluster reports it; null for a simulated run.</summary>
    public DateTimeOffset? ReportedEnd(long jobId) => _reportedEnds.TryGetValue(jobId, out var at) ? at : null;

    /// <summary>The runs clusters started since the last call. Call it before <see cref="Ended"/>, so that a run's start is always taken before its end.</summary>
    public IReadOnlyList<Storage.ClusterStart> TakeStarts() =>
        [.. _agents.OfType<SiteAgent>().SelectMany(a => a.TakeStarts()).Select(e => new Storage.ClusterStart(e.JobId, e.At, e.Detail ?? "started"))];

    /// <summary>
    /// GPUs out of service per node at sites whose availability changed since the last call: all of the
    /// nodes of a site that is unreachable or has not given its first inventory; else, from the cluster's
    /// inventory, all of a node that is drained, down or missing from it, or set aside (<see cref="SiteAgent.SetAside"/>),
    /// and those its own users hold.
    /// At a site that takes its nodes from its cluster (<c>inventory: cluster</c>) the inventory is also held
    /// against the fleet's shape of each node, and what does not fit is told to the site's link
    /// (<see cref="SiteHealth.Unscheduled"/>): a node listed with another model, fewer CPU cores or less memory, or in
    /// another NVLink clique than the multi-node domain the fleet holds it in, takes no work; one listed with fewer GPUs has the rest out of
    /// service; GPUs beyond the fleet's, and nodes the fleet does not hold, are reported.
    /// </summary>
    /// <remarks>
    /// Example: the fleet holds n01–n02 (8 × H100, listed when the server started) and a spare n03. The cluster
    /// now lists n01, n03 (8 × H100) and n04: n02 is out of service (missing), n03 goes into service, and n04 is
    /// reported "not in the fleet" until a restart.
    /// </remarks>
    public IReadOnlyList<(int Node, int OutOfService)> AvailabilityChanges()
    {
        var changes = new List<(int, int)>();
        for (var site = 0; site < _agents.Length; site++)
        {
            if (_agents[site] is not { } agent) continue;
            var version = agent.AvailabilityVersion;
            if (version == _availabilitySeen[site]) continue;
            // Until the cluster's first inventory, nothing is known of its nodes: nothing is placed there.
            var inventory = agent.Reachable ? agent.Inventory : null;
            _availabilitySeen[site] = version;
            var reported = inventory?.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal) ?? [];
            var spec = _fleet.Sites[site].Executor;
            var unscheduled = spec.TakesNodesFromCluster && inventory is not null ? new List<UnscheduledNode>() : null;
            var missing = new List<string>();
            var setAside = agent.SetAside();
            foreach (var node in _siteNodes[site])
            {
                var gpus = _fleet.NodeGpus(node);
                var name = _fleet.NodeName(node);
                if (!reported.Remove(name, out var n))
                {
                    missing.Add(name);
                    changes.Add((node, gpus));
                    continue;
                }
                var outOfService = n.State == InventoryNodeState.Up ? Math.Min(gpus, n.GpusHeldByOthers) : gpus;
                if (unscheduled is not null && Misfit(node, n, spec) is { } misfit)
                {
                    unscheduled.Add(new UnscheduledNode(n.Name, n.Gpus, n.Model, misfit.Unused, misfit.Reason));
                    outOfService = misfit.NoWork ? gpus : outOfService;
                }
                // A node listed with fewer GPUs than the fleet holds (one failed, the device plugin withdrew it) has the rest out of service.
                if (unscheduled is not null && n.Gpus < gpus) outOfService = Math.Min(gpus, outOfService + gpus - n.Gpus);
                // A node where the cluster did not start a run in time takes no new work for a while.
                if (setAside.Contains(name)) outOfService = gpus;
                changes.Add((node, outOfService));
            }
            // What is left of the inventory: nodes the fleet does not hold.
            foreach (var n in reported.Values.Where(n => n.Gpus > 0).OrderBy(n => n.Name, StringComparer.Ordinal))
                unscheduled?.Add(new UnscheduledNode(n.Name, n.Gpus, n.Model, n.Gpus, NotInFleet(site, n, spec)));
            if (unscheduled is not null) agent.Unscheduled(unscheduled);
            if (inventory is not null) agent.Missing(missing);
        }
        return changes;
    }

    // How a node the cluster lists differs from the fleet's node of its name; null when it fits.
    private (int Unused, bool NoWork, string Reason)? Misfit(int node, InventoryNode listed, Core.Fleets.SiteExecutorSpec spec)
    {
        var model = _fleet.Models[_fleet.PoolModel(_fleet.NodePool(node))].Name;
        var listedModel = ClusterPools.FleetModelOf(new ClusterNode(listed.Name, listed.Gpus, listed.Model), _fleet.Models, spec.Setting("model"));
        if (listedModel != model)
            return (listed.Gpus, true, $"listed with GPU model {listed.Model ?? "(none)"}, which is {(listedModel is null ? "none of the fleet's models" : listedModel)}; the fleet holds it as {model} since gpufleet serve started: it takes no work until a restart");
        // A spare taken in with its neighbour's shape, or a node shrunk since the start: the fleet would give out cores or memory it lacks.
        var held = _fleet.PoolSpecs[_fleet.NodeSpec(node)];
        if ((listed.Cpus > 0 && listed.Cpus < held.CpusPerNode) || (listed.MemoryGb > 0 && listed.MemoryGb < held.MemoryGbPerNode))
            return (listed.Gpus, true, $"lists {listed.Cpus} CPU cores and {listed.MemoryGb} GB of memory, less than the {held.CpusPerNode} and {held.MemoryGbPerNode} GB the fleet holds since gpufleet serve started: it takes no work until a restart");
        var domain = held.NvlinkDomain;
        var multiNode = _fleet.DomainNodeCount(_fleet.NodeDomain(node)) > 1;
        if (listed.NvlinkDomain != domain && multiNode)
            return (listed.Gpus, true, $"listed in NVLink clique {listed.NvlinkDomain ?? "(none)"}, not in {domain} where the fleet holds it: it takes no work until a restart");
        var gpus = _fleet.NodeGpus(node);
        if (listed.Gpus > gpus)
            return (listed.Gpus - gpus, false, $"lists {listed.Gpus} GPUs, the fleet holds {gpus} since gpufleet serve started: {listed.Gpus - gpus} take no work until a restart");
        if (listed.NvlinkDomain != domain)
            return (0, false, $"listed in NVLink clique {listed.NvlinkDomain}; the fleet holds it as a domain of its own until a restart");
        return null;
    }

    // Why a node the cluster lists is not in the fleet, and what would take it.
    private string NotInFleet(int site, InventoryNode listed, Core.Fleets.SiteExecutorSpec spec)
    {
        var model = ClusterPools.FleetModelOf(new ClusterNode(listed.Name, listed.Gpus, listed.Model), _fleet.Models, spec.Setting("model"));
        var pool = model is null ? -1 : Enumerable.Range(0, _fleet.PoolCount).FirstOrDefault(p => _fleet.PoolSite(p) == site && _fleet.Models[_fleet.PoolModel(p)].Name == model, -1);
        var fits = pool >= 0 && _siteNodes[site].Any(n => _fleet.NodePool(n) == pool && _fleet.NodeGpus(n) == listed.Gpus);
        return model is null ? $"not in the fleet, and its GPU model {listed.Model ?? "(none)"} is none of the fleet's: it needs a new pool (a restart, with the model in the fleet file)"
            : fits ? $"not in the fleet (the cluster did not list it when gpufleet serve started, and no spare node has its name): {model} × {listed.Gpus} fits pool {_fleet.Sites[site].Name}/{model}, taken at a restart"
            : $"not in the fleet: {model} × {listed.Gpus} needs a new pool at {_fleet.Sites[site].Name}, made at a restart";
    }

    /// <inheritdoc />
    public long? NextWake => _simulated.NextWake;

    /// <inheritdoc />
    public int Running => _simulated.Running + _agents.OfType<SiteAgent>().Sum(a => a.Running);

    internal static RunEnd EndOf(ExecutorEvent e, long at) => e.Kind switch
    {
        ExecutorEventKind.Finished when e.ExitCode is null or 0 => new RunEnd(e.JobId, at, RunOutcome.Completed, e.ExitCode, e.Detail),
        ExecutorEventKind.Finished => new RunEnd(e.JobId, at, RunOutcome.Failed, e.ExitCode, e.Detail is null ? $"exit code {e.ExitCode}" : $"exit code {e.ExitCode} ({e.Detail})"),
        ExecutorEventKind.TimedOut => new RunEnd(e.JobId, at, RunOutcome.TimedOut, e.ExitCode, e.Detail),
        ExecutorEventKind.OutOfMemory => new RunEnd(e.JobId, at, RunOutcome.Failed, e.ExitCode, e.Detail ?? "out of memory"),
        ExecutorEventKind.Cancelled => new RunEnd(e.JobId, at, RunOutcome.Failed, e.ExitCode, e.Detail ?? "cancelled on the cluster"),
        ExecutorEventKind.NodeFailure => new RunEnd(e.JobId, at, RunOutcome.Lost, e.ExitCode, e.Detail ?? "its node failed"),
        ExecutorEventKind.Lost => new RunEnd(e.JobId, at, RunOutcome.Lost, e.ExitCode, e.Detail ?? "the cluster lost it"),
        _ => new RunEnd(e.JobId, at, RunOutcome.Failed, e.ExitCode, e.Detail ?? "the cluster could not run it"),
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents.OfType<SiteAgent>()) await a.DisposeAsync();
    }
}
