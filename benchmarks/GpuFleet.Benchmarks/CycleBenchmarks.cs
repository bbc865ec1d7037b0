using BenchmarkDotNet.Attributes;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Simulation.Benchmarking;

namespace GpuFleet.Benchmarks;

/// <summary>
/// One scheduling cycle on the national fleet, ~95% busy, with a long pending queue, per policy —
/// the same state as <c>gpufleet bench cycle</c>. Before each invocation 20 running jobs end and 20
/// new ones arrive, as in a live system.
/// Run: <c>dotnet run -c Release --project benchmarks/GpuFleet.Benchmarks -- --filter '*Cycle*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CycleBenchmarks
{
    private BusyFleetWorkload _workload = null!;

    [Params("fifo", "backfill", "fairshare")]
    public string Policy { get; set; } = "backfill";

    [Params(10_000, 100_000)]
    public int Pending { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var fleet = FleetFile.Load(Path.Combine(FindRoot(), "fleets", "korea-2030.yaml"));
        _workload = new BusyFleetWorkload(fleet, SchedulingPolicy.Find(Policy)!, 0.95, Pending, seed: 1);
    }

    [IterationSetup]
    public void Churn() => _workload.Churn();

    [Benchmark]
    public int Cycle() => _workload.RunCycle();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GpuFleet.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}
