using BenchmarkDotNet.Attributes;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Data.Fleets;

namespace GpuFleet.Benchmarks;

/// <summary>
/// One scheduling cycle on the national fleet, ~95% busy, with a long pending queue, per policy.
/// Each invocation ends 20 running jobs and submits 20 new ones first, as in a live system.
/// Run: <c>dotnet run -c Release --project benchmarks/GpuFleet.Benchmarks -- --filter '*Cycle*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CycleBenchmarks
{
    private FleetScheduler _scheduler = null!;
    private readonly List<long> _running = [];
    private Random _rng = null!;
    private long _nextId = 1, _now;

    [Params("fifo", "backfill", "fairshare")]
    public string Policy { get; set; } = "backfill";

    [Params(10_000, 100_000)]
    public int Pending { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(FindRoot(), "fleets", "korea-2030.yaml");
        var fleet = FleetFile.Load(path);
        _scheduler = new FleetScheduler(fleet, new SchedulerOptions { Policy = SchedulingPolicy.Find(Policy)! });
        _rng = new Random(1);
        var busy = 0;
        while (busy < 0.95 * fleet.TotalGpus)
        {
            for (var k = 0; k < 2_000; k++) _scheduler.Submit(NewJob());
            var r = _scheduler.RunCycle(_now);
            if (r.Placements.Count == 0) break;
            _running.AddRange(r.Placements.Select(p => p.JobId));
            busy = 0;
            foreach (var b in _scheduler.BusyByPool) busy += b;
        }
        while (_scheduler.PendingCount < Pending) _scheduler.Submit(NewJob());
    }

    [IterationSetup]
    public void Churn()
    {
        _now += 10;
        for (var k = 0; k < 20 && _running.Count > 0; k++)
        {
            var at = _rng.Next(_running.Count);
            _scheduler.End(_running[at], _now);
            _running[at] = _running[^1];
            _running.RemoveAt(_running.Count - 1);
            _scheduler.Submit(NewJob());
        }
    }

    [Benchmark]
    public int Cycle()
    {
        var r = _scheduler.RunCycle(_now);
        _running.AddRange(r.Placements.Select(p => p.JobId));
        return r.Placements.Count;
    }

    private JobSpec NewJob()
    {
        var size = 1 << _rng.Next(0, 11);
        var limit = TimeLimitLadder.RoundUp((long)(Math.Exp(_rng.NextDouble() * 12) + 60));
        return new JobSpec(_nextId++, $"tenant-{_rng.Next(200)}", size, [], TopologyNeed.Site, limit, 0, _now);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GpuFleet.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}
