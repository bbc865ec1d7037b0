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
        for (var n = 0; n < nodes; n++)
        {
            _nodeFree[n] = fleet.NodeGpus(n);
            nodePool[n] = fleet.NodePool(n);
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
