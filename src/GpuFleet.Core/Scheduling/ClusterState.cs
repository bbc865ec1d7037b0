using System.Numerics;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Committed GPU use of the fleet, indexed for placement: free GPUs per node, domain and pool, and
/// bucket indexes of nodes and domains by free count. "Free" here is what placement may use: GPUs
/// neither allocated, nor held for a reservation during the current cycle, nor out of service (a node
/// that is down or drained, GPUs that the cluster's own users hold). A GPU may be allocated and out of
/// service at once (a node drained under a running job): when that job ends, the GPU does not come free.
/// </summary>
internal sealed class ClusterState
{
    private readonly Fleet _fleet;
    private readonly int[] _nodeFree;
    private readonly int[] _nodeHold;
    private readonly ulong[] _nodeUsed;
    private readonly ulong[] _nodeOut;
    private readonly int[] _domainFree;
    private readonly int[] _poolFree;
    private readonly int[] _poolBusy;
    private readonly int[] _poolOut;
    private readonly int[] _poolFreeInEmptyNodes;
    private readonly List<int> _heldNodes = [];
    // CPU (milli-cores) and memory (MB) free per node; a node that does not count them has Unbounded.
    private readonly long[] _nodeCpuFree;
    // Bumped by every change to a node (GPUs, CPU, memory, service, holds), so that what was worked out about a
    // node can be kept until the node changes.
    private readonly long[] _nodeVersion;
    private readonly long[] _nodeMemFree;
    private const long Unbounded = long.MaxValue / 4;
    // Power in milliwatts, rounded up, so that the cap check is exact integer arithmetic and never optimistic.
    private readonly long[] _siteRoomMw;
    private readonly long[] _poolStepMw;
    private readonly long[] _siteIdleRoomMw;

    public ClusterState(Fleet fleet)
    {
        _fleet = fleet;
        var nodes = fleet.NodeCount;
        _nodeFree = new int[nodes];
        _nodeHold = new int[nodes];
        _nodeUsed = new ulong[nodes];
        _nodeOut = new ulong[nodes];
        var nodePool = new int[nodes];
        _nodeCpuFree = new long[nodes];
        _nodeVersion = new long[nodes];
        _nodeMemFree = new long[nodes];
        for (var n = 0; n < nodes; n++)
        {
            _nodeFree[n] = fleet.NodeGpus(n);
            nodePool[n] = fleet.NodePool(n);
        }
        for (var spec = 0; spec < fleet.PoolSpecs.Count; spec++)
        {
            var first = fleet.SpecFirstNode(spec);
            var end = spec + 1 < fleet.PoolSpecs.Count ? fleet.SpecFirstNode(spec + 1) : nodes;
            var cpus = fleet.PoolSpecs[spec].CpusPerNode;
            var memory = fleet.PoolSpecs[spec].MemoryGbPerNode;
            for (var n = first; n < end; n++)
            {
                _nodeCpuFree[n] = cpus > 0 ? cpus * 1000L : Unbounded;
                _nodeMemFree[n] = memory > 0 ? memory * 1000L : Unbounded;
            }
        }
        _domainFree = new int[fleet.DomainCount];
        var domainPool = new int[fleet.DomainCount];
        for (var d = 0; d < fleet.DomainCount; d++)
        {
            _domainFree[d] = fleet.DomainGpus(d);
            domainPool[d] = fleet.DomainPool(d);
        }
        _poolFree = new int[fleet.PoolCount];
        _poolBusy = new int[fleet.PoolCount];
        _poolOut = new int[fleet.PoolCount];
        _poolFreeInEmptyNodes = new int[fleet.PoolCount];
        var maxNode = new int[fleet.PoolCount];
        var maxDomain = new int[fleet.PoolCount];
        for (var p = 0; p < fleet.PoolCount; p++)
        {
            _poolFree[p] = fleet.PoolGpus(p);
            _poolFreeInEmptyNodes[p] = fleet.PoolGpus(p);
            maxNode[p] = fleet.PoolMaxNodeGpus(p);
            maxDomain[p] = fleet.PoolMaxDomainGpus(p);
        }
        _siteRoomMw = new long[fleet.Sites.Count];
        for (var site = 0; site < fleet.Sites.Count; site++)
        {
            var cap = fleet.Sites[site].PowerCapMw;
            _siteRoomMw[site] = cap > 0 ? (long)Math.Floor(cap * 1e9) - (long)Math.Ceiling(fleet.SitePowerWatts(site, new int[fleet.PoolCount]) * 1e3) : long.MaxValue / 2;
        }
        _siteIdleRoomMw = (long[])_siteRoomMw.Clone();
        _poolStepMw = new long[fleet.PoolCount];
        for (var p = 0; p < fleet.PoolCount; p++)
        {
            var model = fleet.Models[fleet.PoolModel(p)];
            _poolStepMw[p] = Math.Max(0, (long)Math.Ceiling((model.BusyWatts - model.IdleWatts) * fleet.Sites[fleet.PoolSite(p)].Pue * 1e3));
        }
        Nodes = new BucketIndex(nodePool, maxNode, (int[])_nodeFree.Clone());
        Domains = new BucketIndex(domainPool, maxDomain, (int[])_domainFree.Clone());
    }

    public Fleet Fleet => _fleet;
    public BucketIndex Nodes { get; }
    public BucketIndex Domains { get; }
    public int NodeFree(int node) => _nodeFree[node];
    public int DomainFree(int domain) => _domainFree[domain];
    public int PoolFree(int pool) => _poolFree[pool];
    public int PoolBusy(int pool) => _poolBusy[pool];
    public ReadOnlySpan<int> BusyByPool => _poolBusy;
    public ReadOnlySpan<int> OutOfServiceByPool => _poolOut;
    public int PoolFreeInEmptyNodes(int pool) => _poolFreeInEmptyNodes[pool];
    public ulong NodeUsedMask(int node) => _nodeUsed[node];
    public ulong NodeOutMask(int node) => _nodeOut[node];

    /// <summary>A number that changes whenever anything of the node does (its GPUs, CPU, memory, service or holds).</summary>
    public long NodeVersion(int node) => _nodeVersion[node];

    /// <summary>Marks a node changed by its owner's books (the slices on its shared GPUs), as its own changes do.</summary>
    public void Touch(int node) => _nodeVersion[node]++;
    public bool HoldsActive => _heldNodes.Count > 0;

    /// <summary>How many more GPUs of a pool may turn busy before its site reaches its power cap.</summary>
    public int PoolPowerRoom(int pool)
    {
        var room = _siteRoomMw[_fleet.PoolSite(pool)];
        if (room <= 0) return 0;
        var step = _poolStepMw[pool];
        return step == 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, room / step);
    }

    /// <summary>How many GPUs of a pool may ever be busy together under its site's power cap (all else idle).</summary>
    public int PoolMaxPowerRoom(int pool)
    {
        var room = _siteIdleRoomMw[_fleet.PoolSite(pool)];
        var step = _poolStepMw[pool];
        return room <= 0 ? 0 : step == 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, room / step);
    }

    /// <summary>Free GPUs of a pool that may start now: free, and within the site's power cap.</summary>
    public int PoolUsable(int pool) => Math.Min(_poolFree[pool], PoolPowerRoom(pool));

    /// <summary>Whether a node has the CPU and memory for <paramref name="count"/> GPUs (or slices) of a job.</summary>
    public bool HasRoomFor(int node, int count, in NodeDemand demand) =>
        demand.CpuMilli(count) <= _nodeCpuFree[node] && demand.MemoryMb(count) <= _nodeMemFree[node];

    /// <summary>
    /// Whether a node would have the CPU and memory for <paramref name="count"/> GPUs of a job once <paramref name="taken"/>
    /// GPUs of another (<paramref name="takenDemand"/>) had theirs: <see cref="HasRoomFor"/> after <see cref="TakeRoom"/>,
    /// asked without changing the node.
    /// </summary>
    public bool HasRoomAfter(int node, int count, in NodeDemand demand, int taken, in NodeDemand takenDemand) =>
        demand.CpuMilli(count) <= _nodeCpuFree[node] - takenDemand.CpuMilli(taken) && demand.MemoryMb(count) <= _nodeMemFree[node] - takenDemand.MemoryMb(taken);

    /// <summary>How many of a node's free GPUs a job may take, given its CPU and memory: 0 to <see cref="NodeFree"/>.</summary>
    public int UsableFree(int node, in NodeDemand demand)
    {
        var free = _nodeFree[node];
        if (demand.IsNone) return free;
        while (free > 0 && !HasRoomFor(node, free, demand)) free--;
        return free;
    }

    /// <summary>Free CPU milli-cores of a node (a very large number where they are not counted).</summary>
    public long CpuFreeMilli(int node) => _nodeCpuFree[node];

    /// <summary>Free memory of a node in MB (a very large number where it is not counted).</summary>
    public long MemoryFreeMb(int node) => _nodeMemFree[node];

    /// <summary>Takes a job's CPU and memory for <paramref name="count"/> GPUs (or slices) on a node.</summary>
    public void TakeRoom(int node, int count, in NodeDemand demand)
    {
        if (demand.IsNone) return;
        if (!HasRoomFor(node, count, demand)) throw new InvalidOperationException($"node {node}: not enough CPU or memory for {count} GPUs");
        _nodeVersion[node]++;
        _nodeCpuFree[node] -= demand.CpuMilli(count);
        _nodeMemFree[node] -= demand.MemoryMb(count);
    }

    /// <summary>Gives back what <see cref="TakeRoom"/> took.</summary>
    public void ReturnRoom(int node, int count, in NodeDemand demand)
    {
        if (demand.IsNone) return;
        _nodeVersion[node]++;
        _nodeCpuFree[node] += demand.CpuMilli(count);
        _nodeMemFree[node] += demand.MemoryMb(count);
    }

    /// <summary>Takes <paramref name="count"/> free GPUs of a node (lowest numbers first) with the job's CPU and memory there.</summary>
    public ulong Allocate(int node, int count, in NodeDemand demand)
    {
        TakeRoom(node, count, demand);
        return Allocate(node, count);
    }

    /// <summary>Gives back GPUs of a finished job with its CPU and memory.</summary>
    public void Release(GpuAllocation allocation, in NodeDemand demand)
    {
        Release(allocation);
        ReturnRoom(allocation.Node, allocation.Count, demand);
    }

    /// <summary><see cref="Restore(GpuAllocation)"/> with the job's CPU and memory.</summary>
    public void Restore(GpuAllocation allocation, in NodeDemand demand)
    {
        if (!HasRoomFor(allocation.Node, allocation.Count, demand))
            throw new InvalidOperationException($"node {allocation.Node}: restoring GPUs without the CPU or memory for them");
        Restore(allocation);
        TakeRoom(allocation.Node, allocation.Count, demand);
    }

    /// <summary>Takes <paramref name="count"/> free GPUs of a node (lowest numbers first) and returns their mask.</summary>
    public ulong Allocate(int node, int count)
    {
        if (count <= 0 || count > _nodeFree[node])
            throw new InvalidOperationException($"node {node}: cannot allocate {count} GPUs, {_nodeFree[node]} free");
        var used = _nodeUsed[node];
        var taken = used | _nodeOut[node];
        ulong mask = 0;
        var gpus = _fleet.NodeGpus(node);
        for (var i = 0; i < gpus && count > 0; i++)
        {
            var bit = 1UL << i;
            if ((taken & bit) != 0) continue;
            mask |= bit;
            count--;
        }
        _nodeUsed[node] = used | mask;
        _nodeVersion[node]++;
        var allocated = BitOperations.PopCount(mask);
        var pool = _fleet.NodePool(node);
        _poolBusy[pool] += allocated;
        _siteRoomMw[_fleet.PoolSite(pool)] -= allocated * _poolStepMw[pool];
        SetVisibleFree(node, _nodeFree[node] - allocated);
        return mask;
    }

    /// <summary>Gives back GPUs of a finished job.</summary>
    public void Release(GpuAllocation allocation)
    {
        var node = allocation.Node;
        if ((_nodeUsed[node] & allocation.Mask) != allocation.Mask)
            throw new InvalidOperationException($"node {node}: releasing GPUs that are not allocated");
        _nodeUsed[node] &= ~allocation.Mask;
        _nodeVersion[node]++;
        var pool = _fleet.NodePool(node);
        _poolBusy[pool] -= allocation.Count;
        _siteRoomMw[_fleet.PoolSite(pool)] += allocation.Count * _poolStepMw[pool];
        SetVisibleFree(node, _nodeFree[node] + BitOperations.PopCount(allocation.Mask & ~_nodeOut[node]));
    }

    /// <summary>
    /// Takes exactly the GPUs of <paramref name="allocation"/> (undoing a <see cref="Release"/>, or adopting a
    /// run that a cluster reports); none may be allocated, and those in service must be visibly free.
    /// </summary>
    public void Restore(GpuAllocation allocation)
    {
        var node = allocation.Node;
        var inService = BitOperations.PopCount(allocation.Mask & ~_nodeOut[node]);
        if ((_nodeUsed[node] & allocation.Mask) != 0 || inService > _nodeFree[node] || (allocation.Mask & ~AllGpus(node)) != 0)
            throw new InvalidOperationException($"node {node}: restoring GPUs that are not free");
        _nodeUsed[node] |= allocation.Mask;
        _nodeVersion[node]++;
        var pool = _fleet.NodePool(node);
        _poolBusy[pool] += allocation.Count;
        _siteRoomMw[_fleet.PoolSite(pool)] -= allocation.Count * _poolStepMw[pool];
        SetVisibleFree(node, _nodeFree[node] - inService);
    }

    /// <summary>
    /// Sets which GPUs of a node are out of service (bit i = GPU i); between cycles only. GPUs that come
    /// back into service and are not allocated are free again at once.
    /// </summary>
    public void SetOutOfService(int node, ulong mask)
    {
        if (_nodeHold[node] != 0) throw new InvalidOperationException($"node {node}: out-of-service GPUs change between cycles, not while GPUs are held");
        var pool = _fleet.NodePool(node);
        _poolOut[pool] -= BitOperations.PopCount(_nodeOut[node]);
        _nodeOut[node] = mask & AllGpus(node);
        _nodeVersion[node]++;
        _poolOut[pool] += BitOperations.PopCount(_nodeOut[node]);
        SetVisibleFree(node, _fleet.NodeGpus(node) - BitOperations.PopCount(_nodeUsed[node] | _nodeOut[node]));
    }

    /// <summary>Every GPU of a node as a mask.</summary>
    public ulong AllGpus(int node)
    {
        var gpus = _fleet.NodeGpus(node);
        return gpus >= 64 ? ulong.MaxValue : (1UL << gpus) - 1;
    }

    /// <summary>Hides <paramref name="count"/> free GPUs of a node from placement until holds are cleared.</summary>
    public void Hold(int node, int count)
    {
        if (count <= 0) return;
        if (count > _nodeFree[node]) throw new InvalidOperationException($"node {node}: cannot hold {count} GPUs");
        if (_nodeHold[node] == 0) _heldNodes.Add(node);
        _nodeHold[node] += count;
        SetVisibleFree(node, _nodeFree[node] - count);
    }

    /// <summary>Shows held GPUs to placement again, keeping the hold amounts for <see cref="ReapplyHolds"/>.</summary>
    public void LiftHolds()
    {
        foreach (var n in _heldNodes) SetVisibleFree(n, _nodeFree[n] + _nodeHold[n]);
    }

    /// <summary>Hides held GPUs again; a hold shrinks to what is still free (a short job may have used some).</summary>
    public void ReapplyHolds()
    {
        foreach (var n in _heldNodes)
        {
            _nodeHold[n] = Math.Min(_nodeHold[n], _nodeFree[n]);
            SetVisibleFree(n, _nodeFree[n] - _nodeHold[n]);
        }
    }

    /// <summary>Drops every hold (end of cycle).</summary>
    public void ClearHolds()
    {
        foreach (var n in _heldNodes)
        {
            SetVisibleFree(n, _nodeFree[n] + _nodeHold[n]);
            _nodeHold[n] = 0;
        }
        _heldNodes.Clear();
    }

    private void SetVisibleFree(int node, int free)
    {
        var delta = free - _nodeFree[node];
        if (delta == 0) return;
        _nodeVersion[node]++;
        var size = _fleet.NodeGpus(node);
        var pool = _fleet.NodePool(node);
        if (_nodeFree[node] == size) _poolFreeInEmptyNodes[pool] -= size;
        if (free == size) _poolFreeInEmptyNodes[pool] += size;
        _nodeFree[node] = free;
        Nodes.Set(node, free);
        var domain = _fleet.NodeDomain(node);
        _domainFree[domain] += delta;
        Domains.Set(domain, _domainFree[domain]);
        _poolFree[pool] += delta;
    }
}
