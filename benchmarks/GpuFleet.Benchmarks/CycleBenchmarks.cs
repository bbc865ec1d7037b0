using BenchmarkDotNet.Attributes;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;
using GpuFleet.Simulation.Benchmarking;

namespace GpuFleet.Benchmarks;

/// <summary>
/// One scheduling cycle on the national fleet, ~95% busy, with a long pending queue, per policy —
/// the same state as <c>gpufleet bench cycle</c>. <c>static</c> and <c>shared</c> run with
/// <c>tenants/korea-2030.yaml</c> (guarantees, lending, reclaim, grants). Before each invocation 20 running jobs end and 20
/// new ones arrive, as in a live system.
/// Run: <c>dotnet run -c Release --project benchmarks/GpuFleet.Benchmarks -- --filter '*Cycle*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CycleBenchmarks
{
    private BusyFleetWorkload _workload = null!;

    [Params("fifo", "backfill", "fairshare", "static", "shared")]
    public string Policy { get; set; } = "backfill";

    [Params(10_000, 100_000)]
    public int Pending { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var fleet = FleetFile.Load(Path.Combine(FindRoot(), "fleets", "korea-2030.yaml"));
        var policy = SchedulingPolicy.Find(Policy)!;
        var tenants = policy.Quotas == QuotaMode.None ? null : TenantFile.Load(Path.Combine(FindRoot(), "tenants", "korea-2030.yaml"), fleet);
        _workload = new BusyFleetWorkload(fleet, policy, 0.95, Pending, seed: 1, tenants);
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
