using GpuFleet.Core.Fleets;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// The node failures of a run, listed (<see cref="NodeFailure"/>) and drawn at a rate (<see cref="NodeFailureRate"/>),
/// merged into one stream, and which nodes are down until when. A failure of a node already down — or due back
/// at that very instant — is not a new outage: it extends the one under way to the later repair, so the node's
/// GPUs come back once. Nothing here depends on the scheduler, so every policy meets the same failures.
/// </summary>
internal sealed class NodeOutages
{
    private readonly Fleet _fleet;
    private readonly NodeFailure[] _listed;
    private int _nextListed;
    private readonly NodeFailureRate? _rate;
    private readonly long _rateRepairSeconds;
    // Each node's next drawn failure, by (time, node); a node's draws are numbered so that each is independent of the others.
    private readonly PriorityQueue<int, (long Time, int Node)> _drawn = new();
    private readonly int[] _draws;
    private readonly bool[] _down;
    private readonly long[] _repairAt;
    // Repairs by (time, node); an entry whose node was since extended to a later repair is stale.
    private readonly PriorityQueue<int, (long Time, int Node)> _repairs = new();

    public NodeOutages(Fleet fleet, IReadOnlyList<NodeFailure> listed, NodeFailureRate? rate, long start)
    {
        _fleet = fleet;
        foreach (var f in listed)
        {
            if ((uint)f.Node >= (uint)fleet.NodeCount) throw new ArgumentOutOfRangeException(nameof(listed), f.Node, "no such node in the fleet");
            if (f.RepairSeconds < 1) throw new ArgumentOutOfRangeException(nameof(listed), f.RepairSeconds, "a repair takes at least 1 s");
        }
        _listed = [.. listed.Select((f, i) => (f, i)).OrderBy(x => x.f.At).ThenBy(x => x.f.Node).ThenBy(x => x.i).Select(x => x.f)];
        _down = new bool[fleet.NodeCount];
        _repairAt = new long[fleet.NodeCount];
        _draws = new int[fleet.NodeCount];
        _rate = rate;
        if (rate is not null)
        {
            if (!(rate.MtbfHours > 0) || !double.IsFinite(rate.MtbfHours)) throw new ArgumentOutOfRangeException(nameof(rate), rate.MtbfHours, "the mean time between failures must be positive");
            if (!(rate.RepairHours > 0) || !double.IsFinite(rate.RepairHours)) throw new ArgumentOutOfRangeException(nameof(rate), rate.RepairHours, "the repair time must be positive");
            _rateRepairSeconds = Seconds(rate.RepairHours * 3_600);
            for (var n = 0; n < fleet.NodeCount; n++) _drawn.Enqueue(n, (start + UpSeconds(n), n));
        }
    }

    /// <summary>Outages begun (a failure that extended one under way is not counted again).</summary>
    public int Failures { get; private set; }

    /// <summary>GPUs of the nodes down now.</summary>
    public int OutOfServiceGpus { get; private set; }

    /// <summary>When the next failure comes; null when none will.</summary>
    public long? NextFailure
    {
        get
        {
            long? next = _nextListed < _listed.Length ? _listed[_nextListed].At : null;
            if (_drawn.TryPeek(out _, out var d) && (next is null || d.Time < next)) next = d.Time;
            return next;
        }
    }

    /// <summary>When the next node comes back; null when none is down.</summary>
    public long? NextRepair
    {
        get
        {
            while (_repairs.TryPeek(out var node, out var at))
            {
                if (_down[node] && _repairAt[node] == at.Time) return at.Time;
                _repairs.Dequeue();
            }
            return null;
        }
    }

    /// <summary>When the last of the nodes down now comes back; null when none is down.</summary>
    public long? LatestRepair
    {
        get
        {
            long? latest = null;
            for (var n = 0; n < _down.Length; n++)
                if (_down[n] && (latest is null || _repairAt[n] > latest)) latest = _repairAt[n];
            return latest;
        }
    }

    /// <summary>Applies the failures due by <paramref name="now"/>; returns the nodes that went down, in node order.</summary>
    public IReadOnlyList<int> FailuresAt(long now)
    {
        List<(int Node, long Repair)>? due = null;
        for (; _nextListed < _listed.Length && _listed[_nextListed].At <= now; _nextListed++)
        {
            var f = _listed[_nextListed];
            (due ??= []).Add((f.Node, f.At + f.RepairSeconds));
        }
        while (_drawn.TryPeek(out var node, out var at) && at.Time <= now)
        {
            _drawn.Dequeue();
            var repair = at.Time + _rateRepairSeconds;
            (due ??= []).Add((node, repair));
            // The node's next failure comes after this repair, an up time later, whatever else befalls it.
            _drawn.Enqueue(node, (repair + UpSeconds(node), node));
        }
        if (due is null) return [];
        var down = new List<int>();
        foreach (var (node, repair) in due.OrderBy(d => d.Node).ThenBy(d => d.Repair))
        {
            if (_down[node])
            {
                if (repair <= _repairAt[node]) continue;
                _repairAt[node] = repair;
            }
            else
            {
                _down[node] = true;
                _repairAt[node] = repair;
                OutOfServiceGpus += _fleet.NodeGpus(node);
                Failures++;
                down.Add(node);
            }
            _repairs.Enqueue(node, (repair, node));
        }
        return down;
    }

    /// <summary>Brings back the nodes whose repair is due by <paramref name="now"/>; returns them in node order.</summary>
    public IReadOnlyList<int> RepairsAt(long now)
    {
        List<int>? back = null;
        while (NextRepair is { } at && at <= now)
        {
            var node = _repairs.Dequeue();
            _down[node] = false;
            OutOfServiceGpus -= _fleet.NodeGpus(node);
            (back ??= []).Add(node);
        }
        if (back is null) return [];
        back.Sort();
        return back;
    }

    // Up time before node's next failure: an exponential draw from a hash of (seed, node, draw number), so that
    // the draws of one node do not depend on how many other nodes there are or in what order they fail.
    private long UpSeconds(int node)
    {
        var draw = _draws[node]++;
        var x = Mix((ulong)_rate!.Seed + 0x9E3779B97F4A7C15UL * (ulong)(node + 1));
        x = Mix(x + 0x9E3779B97F4A7C15UL * (ulong)(draw + 1));
        var uniform = ((x >> 11) + 0.5) / (1UL << 53);   // in (0, 1): the logarithm below is finite
        return Seconds(-Math.Log(uniform) * _rate.MtbfHours * 3_600);
    }

    // Whole seconds, at least 1, and at most ~30 million years, so that sums of times cannot overflow.
    private static long Seconds(double seconds) => (long)Math.Clamp(Math.Round(seconds), 1, 1e15);

    // SplitMix64's finaliser.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
