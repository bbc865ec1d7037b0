using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Simulation.Benchmarking;

/// <summary>
/// A scheduler brought to the state the cycle benchmarks measure: a fleet filled by the scheduler
/// itself to a share of busy GPUs, a long pending queue of 1- to 1,024-GPU jobs from 200 tenants,
/// and, between measured cycles, a few jobs ending and as many arriving, as in a live system.
/// Shared by <c>gpufleet bench cycle</c> and the BenchmarkDotNet cycle benchmarks so that both
/// measure the same thing. Seeded: same seed, same state.
/// <para>With a request mix (<see cref="RequestMix"/>), half the jobs are drawn from it instead — fractions of
/// GPUs, small whole-GPU jobs, CPU and memory — from a random source of their own, so that the other half
/// are the same jobs as without it.</para>
/// <para>With services, as many inference services (half of them on MIG or time-shared slices where the fleet
/// has them) get a request rate that swings around its mean over a day; at every churn each is scaled again,
/// so replicas are submitted and ended between cycles as in a live system.</para>
/// </summary>
public sealed class BusyFleetWorkload
{
    private static readonly int[] Sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    // Many small jobs, few giant gangs, as in Philly and Kalos; the giant ones carry most GPU-time.
    private static readonly double[] SizeWeights = [40, 10, 10, 15, 8, 6, 4, 3, 2, 1, 1];

    private readonly Random _rng;
    private readonly double[] _sizeCdf;
    private readonly string[] _tenants;
    private readonly List<long> _running = [];
    private readonly RequestMix? _mix;
    private readonly Random _mixRng;
    private long _nextId = 1;
    private readonly ServiceFleet? _services;
    private readonly double[] _servicePhase = [];

    /// <summary>
    /// Fills <paramref name="fleet"/> to <paramref name="busyShare"/> and queues <paramref name="pending"/> jobs;
    /// with a tenant tree, jobs come from its projects (leaves) and its guarantees, grants and classes apply.
    /// </summary>
    public BusyFleetWorkload(Fleet fleet, SchedulingPolicy policy, double busyShare, int pending, int seed, TenantTree? tenants = null, RequestMix? mix = null,
        int services = 0)
    {
        _mix = mix;
        _mixRng = new Random(unchecked(seed * 7_919 + 1));
        _tenants = tenants is { Tenants.Count: > 0 }
            ? [.. tenants.Leaves.Select(t => t.Name)]
            : [.. Enumerable.Range(0, 200).Select(i => $"tenant-{i:D3}")];
        _rng = new Random(seed);
        var total = SizeWeights.Sum();
        var acc = 0.0;
        _sizeCdf = [.. SizeWeights.Select(w => acc += w / total)];
        Scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = policy, Tenants = tenants ?? TenantTree.Empty });
        while (BusyGpus < busyShare * fleet.TotalGpus)
        {
            for (var k = 0; k < 2_000; k++) Scheduler.Submit(NewJob());
            var result = Scheduler.RunCycle(Now);
            Decisions.Add(result);
            if (Record(result) == 0) break;
        }
        while (Scheduler.PendingCount < pending) Scheduler.Submit(NewJob());
        if (services > 0)
        {
            var sliced = fleet.Models.Select((m, i) => (m, i)).FirstOrDefault(x => x.m.Sharing?.MigProfiles.Count > 0);
            var profile = sliced.m?.Sharing?.MigProfiles.OrderBy(p => p.ComputeSlices).First();
            _services = new ServiceFleet(Scheduler, [.. Enumerable.Range(0, services).Select(i => new ServiceSpec(
                $"service-{i:D2}", _tenants[i % _tenants.Length], 1, 10, 2_000, 10, 0.7)
            {
                Slice = i % 2 == 1 && profile is not null ? new SliceRequest(profile.Name, 0, 0) : null,
                Models = i % 2 == 1 && profile is not null ? [sliced.m!.Name] : [],
                PriorityClass = (tenants ?? TenantTree.Empty).Classes.Any(c => c.Name == "production") ? "production" : null,
            })]);
            _servicePhase = [.. Enumerable.Range(0, services).Select(_ => _mixRng.NextDouble() * 2 * Math.PI)];
            ScaleServices();
        }
    }

    /// <summary>Replicas the services run or wait for.</summary>
    public int Replicas => _services is null ? 0 : Enumerable.Range(0, _services.Services.Count).Sum(s => _services.Placed(s) + _services.Pending(s));

    // Each service's rate: 5,000 requests/s ± 50% over a day (≈ 360–1,070 replicas), phases apart.
    private void ScaleServices()
    {
        if (_services is null) return;
        for (var s = 0; s < _services.Services.Count; s++)
            _services.Scale(s, 5_000 * (1 + 0.5 * Math.Sin(2 * Math.PI * Now / 86_400.0 * 48 + _servicePhase[s])), Now);
    }

    /// <summary>The scheduler under test.</summary>
    public FleetScheduler Scheduler { get; }

    /// <summary>Digest of the decisions of the cycles that filled the fleet, plus any the caller adds (see <see cref="LastCycle"/>).</summary>
    public DecisionDigest Decisions { get; } = new();

    /// <summary>What the last <see cref="RunCycle"/> decided, so that a caller that times it can digest it outside the timing.</summary>
    public CycleResult? LastCycle { get; private set; }

    /// <summary>The workload's clock.</summary>
    public long Now { get; private set; }

    /// <summary>GPUs in use.</summary>
    public int BusyGpus
    {
        get
        {
            var busy = 0;
            foreach (var b in Scheduler.BusyByPool) busy += b;
            return busy;
        }
    }

    /// <summary>Advances the clock 10 s; <paramref name="count"/> random running jobs end and as many new ones arrive.</summary>
    public void Churn(int count = 20)
    {
        Now += 10;
        for (var k = 0; k < count && _running.Count > 0; k++)
        {
            var at = _rng.Next(_running.Count);
            Scheduler.End(_running[at], Now);
            _running[at] = _running[^1];
            _running.RemoveAt(_running.Count - 1);
            Scheduler.Submit(NewJob());
        }
        ScaleServices();
    }

    /// <summary>Runs one cycle at the current time and remembers what it started; returns the number started.</summary>
    public int RunCycle() => Record(Scheduler.RunCycle(Now));

    private int Record(CycleResult result)
    {
        _services?.Observe(result);
        // Replicas end when their service scales down, never at random.
        foreach (var p in result.Placements) if (!ServiceFleet.IsReplicaId(p.JobId)) _running.Add(p.JobId);
        LastCycle = result;
        return result.Placements.Count;
    }

    private JobSpec NewJob()
    {
        if (_mix is not null && _mixRng.NextDouble() < 0.5)
        {
            var shape = _mix.Draw(_mixRng);
            var mixLimit = TimeLimitLadder.RoundUp((long)(Math.Exp(_mixRng.NextDouble() * 12) + 60));
            return new JobSpec(_nextId++, _tenants[_mixRng.Next(_tenants.Length)], shape.Gpus, [], TopologyNeed.Site, mixLimit, 0, Now)
            {
                Slice = shape.Slice,
                CpusPerGpu = shape.CpusPerGpu,
                MemoryGbPerGpu = shape.MemoryGbPerGpu,
            };
        }
        var i = Array.BinarySearch(_sizeCdf, _rng.NextDouble());
        var size = Sizes[Math.Min(Sizes.Length - 1, i < 0 ? ~i : i)];
        var limit = TimeLimitLadder.RoundUp((long)(Math.Exp(_rng.NextDouble() * 12) + 60));
        return new JobSpec(_nextId++, _tenants[_rng.Next(_tenants.Length)], size, [], TopologyNeed.Site, limit, 0, Now);
    }
}
