using System.Text.Json;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Workloads;
using GpuFleet.Simulation.Engine;

namespace GpuFleet.Simulation.Tests;

/// <summary>The allocation model in the twin: static partitions against guarantees with lending and reclaim.</summary>
[Trait("Category", "Simulation")]
public sealed class SharingTests
{
    [Fact]
    public void Sharing_beats_static_partitions_on_the_Philly_sample_and_keeps_every_guarantee()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var tree = TenantFile.Load(TestFiles.Tenants("philly-vcs.yaml"), fleet);
        var jobs = TraceFile.Load(TestFiles.SampleTrace);
        var fixedParts = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.Static, Tenants = tree }).Report;
        var shared = Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree }).Report;

        // Jobs larger than their tenant's whole partition are counted apart, never hidden; sharing runs them.
        Assert.True(fixedParts.NeverFitJobs > 0);
        Assert.Equal(fixedParts.NeverFitJobs, fixedParts.PerTenant.Sum(t => t.NeverFitJobs));
        Assert.Equal(jobs.Count, fixedParts.Jobs + fixedParts.NeverFitJobs + fixedParts.RejectedJobs);
        Assert.Equal(0, shared.NeverFitJobs);
        Assert.Equal(jobs.Count, shared.Jobs);

        // The targets: mean wait at least 2x lower, idle GPU-hours while jobs waited at least 5x lower.
        Assert.True(shared.MeanWaitSeconds * 2 <= fixedParts.MeanWaitSeconds, $"mean wait shared {shared.MeanWaitSeconds:F0} s, static {fixedParts.MeanWaitSeconds:F0} s");
        Assert.True(shared.IdleGpuHoursWhileWaiting * 5 <= fixedParts.IdleGpuHoursWhileWaiting,
            $"idle GPU-h shared {shared.IdleGpuHoursWhileWaiting:F0}, static {fixedParts.IdleGpuHoursWhileWaiting:F0}");
        Assert.True(shared.Utilization > fixedParts.Utilization);

        // Lending happened, was reclaimed, and every tenant with demand held its guarantee 99% of the time.
        Assert.True(shared.BorrowedGpuHours > 0 && shared.Reclaims > 0);
        Assert.Equal(0, fixedParts.BorrowedGpuHours);
        Assert.All(shared.PerTenant.Where(t => t.GuaranteeHeld is not null), t =>
            Assert.True(t.GuaranteeHeld >= 0.99, $"{t.Tenant} held its guarantee {t.GuaranteeHeld:P2} of its demand time"));
        // Reclaim: from the first wait within the guarantee to free GPUs, within the victims' grace time.
        Assert.InRange(shared.ReclaimP99Seconds, 0, PriorityClass.Normal.GraceSeconds);
        Assert.Equal(0, shared.PowerCapViolations);
        Assert.Equal(0, fixedParts.PowerCapViolations);

        // Energy is charged per job: jobs' busy energy is part of the site's, and priced at the site's rate.
        var charged = shared.PerTenant.Sum(t => t.EnergyKwh);
        Assert.InRange(charged, 0.3 * shared.EnergyKwh, shared.EnergyKwh);
        Assert.All(shared.PerTenant.Where(t => t.Jobs > 0), t => Assert.Equal(t.EnergyKwh / 1000 * fleet.Sites[0].PricePerMwh, t.EnergyCost, 6));
    }

    [Fact]
    public void Generated_national_workload_with_tenants_is_deterministic_and_follows_the_tree()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
        var tree = TenantFile.Load(TestFiles.Tenants("korea-2030.yaml"), fleet);
        var plain = WorkloadGenerator.Generate(WorkloadModel.Default, fleet, 0.5, 0.9, 3);
        var jobs = WorkloadGenerator.Generate(WorkloadModel.Default, fleet, 0.5, 0.9, 3, tree);
        // Same sizes, times and run times with or without a tree; tenants are the tree's projects.
        Assert.Equal(plain.Select(j => (j.Spec.Gpus, j.Spec.SubmitTime, j.RuntimeSeconds)), jobs.Select(j => (j.Spec.Gpus, j.Spec.SubmitTime, j.RuntimeSeconds)));
        var leaves = tree.Leaves.Select(t => t.Name).ToHashSet();
        Assert.All(jobs, j => Assert.Contains(j.Spec.Tenant, leaves));

        string Run() => JsonSerializer.Serialize(Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = SchedulingPolicy.Shared, Tenants = tree }).Report);
        var first = Run();
        Assert.Equal(first, Run());
        var report = JsonSerializer.Deserialize<JsonElement>(first);
        Assert.Equal(0, report.GetProperty("PowerCapViolations").GetInt32());
        Assert.Equal(5, report.GetProperty("PerOwner").GetArrayLength());
    }
}
