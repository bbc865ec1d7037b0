using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Engine;

/// <summary>Turns what a run recorded into its <see cref="SimulationReport"/>.</summary>
internal static class ReportBuilder
{
    public static SimulationResult Build(Fleet fleet, TraceJob[] jobs, SchedulerOptions scheduling, FleetScheduler scheduler, string trace, RunState run,
        FleetMeter meter, TenantMeter? tenantMeter, long first, long last, double utilizationWhileArriving, NodeOutages? outages, ServiceMeter? services = null)
    {
        var started = run.Started;
        var start = run.Start;
        var end = run.End;
        var n = started.Count;
        var waits = new long[n];
        var jcts = new long[n];
        double slowdown = 0;
        for (var k = 0; k < n; k++)
        {
            var i = started[k];
            waits[k] = start[i] - jobs[i].Spec.SubmitTime;
            jcts[k] = end[i] - jobs[i].Spec.SubmitTime;
            var ran = end[i] - start[i];
            slowdown += Math.Max(1.0, (double)(waits[k] + ran) / Math.Max(ran, 10));
        }
        var makespan = Math.Max(0, last - first);
        var tenants = Tenants(fleet, jobs, scheduler, run, tenantMeter, makespan);
        var sites = fleet.Sites.Select((s, i) =>
        {
            var gpus = fleet.SiteGpus(i);
            return new SiteReport(s.Name, s.Owner, gpus,
                makespan > 0 && gpus > 0 ? meter.SiteBusyGpuSeconds(i) / ((double)gpus * makespan) : 0,
                meter.SiteEnergyJ(i) / 3.6e6,
                makespan > 0 ? meter.SiteEnergyJ(i) / makespan / 1e6 : 0,
                meter.SitePeakW(i) / 1e6,
                s.PowerCapMw);
        }).ToList();
        double[] sortedWaits = [.. waits.Select(w => (double)w).Order()];
        var large = started.Where(i => jobs[i].Spec.Gpus >= scheduling.LargeGangGpus).ToList();
        // One reclaim request per preemptor: from its first wait within its guarantee to the last victim gone.
        var reclaims = run.Preemptions.Where(p => p.Decision.Kind == PreemptionKind.Reclaim).ToList();
        var reclaimLatency = reclaims.GroupBy(p => (p.Decision.PreemptorJobId, p.Decision.RequestedAt))
            .Select(g => (double)(g.Max(p => p.Time) - g.Key.RequestedAt + g.Max(p => p.Decision.GraceSeconds)))
            .Order().ToArray();
        // Jobs of GPU slices, and how long each held its slices (from its last placement to its end).
        var slices = started.Where(i => jobs[i].Spec.Slice is not null).ToList();
        double Held(int i) => Math.Max(0, run.End[i] - run.Placed[i]);
        var report = new SimulationReport
        {
            Policy = scheduling.Policy.Name,
            Fleet = fleet.Name,
            Trace = trace,
            FleetGpus = fleet.TotalGpus,
            Jobs = n,
            RejectedJobs = run.Rejected.Count,
            RejectedExamples = run.RejectedExamples,
            TimedOutJobs = run.TimedOut.Count,
            CancelledJobs = run.Cancelled.Count,
            Utilization = makespan > 0 ? meter.BusyGpuSeconds / ((double)fleet.TotalGpus * makespan) : 0,
            UtilizationWhileArriving = utilizationWhileArriving,
            MeanWaitSeconds = n > 0 ? waits.Average() : 0,
            P50WaitSeconds = Percentile.OfSorted(sortedWaits, 0.50),
            P95WaitSeconds = Percentile.OfSorted(sortedWaits, 0.95),
            P99WaitSeconds = Percentile.OfSorted(sortedWaits, 0.99),
            MeanJctSeconds = n > 0 ? jcts.Average() : 0,
            P99JctSeconds = Percentile.Of(jcts, 0.99),
            MeanBoundedSlowdown = n > 0 ? slowdown / n : 0,
            MakespanSeconds = makespan,
            IdleGpuHoursWhileWaiting = meter.IdleGpuSecondsWhileWaiting / 3600,
            Fragmentation = meter.FreeGpuSeconds > 0 ? meter.FragmentedGpuSeconds / meter.FreeGpuSeconds : 0,
            EnergyKwh = sites.Sum(s => s.EnergyKwh),
            PeakPowerMw = meter.PeakPowerW / 1e6,
            Cycles = run.Cycles,
            Sites = sites,
            PerTenant = tenants,
            PerOwner = Owners(tenants, jobs, run),
            NeverFitJobs = run.NeverFit.Count,
            Preemptions = run.Preemptions.Count,
            Reclaims = reclaims.Count,
            LostGpuHours = run.Preemptions.Sum(p => p.Decision.LostGpuSeconds) / 3600,
            ReclaimP50Seconds = Percentile.OfSorted(reclaimLatency, 0.50),
            ReclaimP99Seconds = Percentile.OfSorted(reclaimLatency, 0.99),
            BorrowedGpuHours = tenants.Sum(t => t.BorrowedGpuHours),
            LentGpuHours = tenants.Sum(t => t.LentGpuHours),
            LargeGangGpus = scheduling.LargeGangGpus,
            LargeGangJobs = large.Count,
            LargeGangMaxWaitSeconds = large.Count > 0 ? large.Max(i => start[i] - jobs[i].Spec.SubmitTime) : 0,
            SitePeakPowerMw = sites.ToDictionary(s => s.Site, s => s.PeakPowerMw),
            SitePowerCapMw = sites.ToDictionary(s => s.Site, s => s.PowerCapMw),
            PowerCapViolations = meter.CapViolations,
            // Only a run given failures reports them, so that the reports of runs without stay as they were.
            NodeFailures = outages?.Failures,
            JobsInterruptedByFailures = outages is null ? null : run.FailureRequeues,
            FailureLostGpuHours = outages is null ? null : run.FailureLostGpuSeconds / 3600,
            OutOfServiceGpuHours = outages is null ? null : meter.OutOfServiceGpuSeconds / 3600,
            SliceJobs = slices.Count > 0 ? slices.Count : null,
            SliceGpuHours = slices.Count > 0 ? slices.Sum(i => Held(i) * run.Equivalents[i]) / 3600 : null,
            SliceRoundedUpGpuHours = slices.Count > 0 ? slices.Sum(i => Held(i) * jobs[i].Spec.Gpus) / 3600 : null,
            MeanStrandedGpus = run.StrandedSamples.Count > 0 ? run.StrandedSamples.Average() : null,
            MaxStrandedGpus = run.StrandedSamples.Count > 0 ? run.StrandedSamples.Max() : null,
            MeanFragmentation = run.FragmentationSamples.Count > 0 ? run.FragmentationSamples.Average() : null,
            Services = services is null ? null : Services(services),
        };
        return new SimulationResult(report, meter.Series, [.. fleet.Sites.Select(s => s.Name)])
        {
            Waits = waits,
            ServiceNames = services is null ? [] : [.. report.Services!.Select(s => s.Service)],
            ReplicaSeries = services?.Series ?? [],
        };
    }

    private static List<ServiceReport> Services(ServiceMeter meter)
    {
        var list = new List<ServiceReport>();
        for (var i = 0; list.Count < meter.Count; i++)
        {
            var s = meter[i];
            double[] scaleUps = [.. s.ScaleUpSeconds.Order()];
            var served = s.Requests - s.Unserved;
            list.Add(new ServiceReport
            {
                Service = s.Spec.Name,
                Tenant = s.Spec.Tenant,
                ActiveSeconds = s.ActiveSeconds,
                UnderReplicatedSeconds = s.UnderSeconds,
                ShareMet = s.ActiveSeconds > 0 ? 1 - s.UnderSeconds / s.ActiveSeconds : 1,
                RateMetShare = s.ActiveSeconds > 0 ? 1 - s.ShortSeconds / s.ActiveSeconds : 1,
                Requests = s.Requests,
                UnservedRequests = s.Unserved,
                ServedShare = s.Requests > 0 ? served / s.Requests : 1,
                MeanReplicas = s.ActiveSeconds > 0 ? s.ReplicaSeconds / s.ActiveSeconds : 0,
                MinReplicas = s.MinRunning ?? 0,
                MaxReplicas = s.MaxRunning,
                MeanDesiredReplicas = s.ActiveSeconds > 0 ? s.DesiredSeconds / s.ActiveSeconds : 0,
                ReplicasStarted = s.ReplicasStarted,
                ScaleUpP50Seconds = Percentile.OfSorted(scaleUps, 0.50),
                ScaleUpP99Seconds = Percentile.OfSorted(scaleUps, 0.99),
                ScaleUpMaxSeconds = scaleUps.Length > 0 ? scaleUps[^1] : 0,
                ReplicasEvicted = s.Evictions,
                ReplicasRejected = s.Rejected,
                RejectedExample = s.RejectedExample,
                Region = s.Spec.Region,
                ServedAtEdge = s.Spec.Region is null ? null : s.ServedEdge,
                ServedSpilled = s.Spec.Region is null ? null : served - s.ServedEdge,
                LatencyBudgetMs = s.Spec.LatencyBudgetMs,
                RequestsWithinBudget = s.Spec.LatencyBudgetMs is null ? null : s.ServedWithin,
                RequestsOutsideBudget = s.Spec.LatencyBudgetMs is null ? null : s.Requests - s.ServedWithin,
                StandbyReplicas = s.Spec.StandbyReplicas > 0 ? s.Spec.StandbyReplicas : null,
                StandbyReplicaHours = s.Spec.StandbyReplicas > 0 ? s.StandbySeconds / 3600 : null,
                ScaleUps = s.Spec.StandbyReplicas > 0 ? scaleUps.Length : null,
                LargestRiseReplicas = s.LargestRise,
            });
        }
        return list;
    }

    private static List<TenantReport> Tenants(Fleet fleet, TraceJob[] jobs, FleetScheduler scheduler, RunState run, TenantMeter? meter, long makespan)
    {
        var nodeOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var t = 0; t < scheduler.Tenants.Count; t++) nodeOf[scheduler.Tenants.Name(t)] = t;
        var lostByTenant = run.Preemptions.GroupBy(p => p.Decision.VictimTenant)
            .ToDictionary(g => g.Key, g => (Count: g.Count(), Lost: g.Sum(p => p.Decision.LostGpuSeconds)));
        var energyBy = new Dictionary<string, (double Joules, double Cost)>(StringComparer.Ordinal);
        for (var i = 0; i < jobs.Length; i++)
        {
            if (run.EnergyJ[i] <= 0) continue;
            var (joules, cost) = energyBy.GetValueOrDefault(jobs[i].Spec.Tenant);
            energyBy[jobs[i].Spec.Tenant] = (joules + run.EnergyJ[i], cost + run.Cost[i]);
        }
        var neverFit = run.NeverFit.GroupBy(i => jobs[i].Spec.Tenant).ToDictionary(g => g.Key, g => g.Count());
        var startedBy = run.Started.GroupBy(i => jobs[i].Spec.Tenant).ToDictionary(g => g.Key, g => g.ToList());
        var names = startedBy.Keys.Concat(neverFit.Keys)
            .Concat(Enumerable.Range(0, scheduler.Tenants.Count).Where(scheduler.Tenants.IsLeaf).Select(scheduler.Tenants.Name))
            .Distinct().Order(StringComparer.Ordinal);
        var list = new List<TenantReport>();
        foreach (var name in names)
        {
            var mine = startedBy.GetValueOrDefault(name) ?? [];
            var w = mine.Select(i => run.Start[i] - jobs[i].Spec.SubmitTime).ToArray();
            var gpuHours = mine.Sum(i => (double)(run.End[i] - run.Start[i]) * run.Equivalents[i]) / 3600;
            var node = nodeOf.GetValueOrDefault(name, -1);
            var guarantee = node < 0 ? 0 : Enumerable.Range(0, fleet.Models.Count).Sum(m => scheduler.Tenants.Guarantee(node, m));
            var demand = meter is not null && node >= 0 && node < meter.DemandSeconds.Count ? meter.DemandSeconds[node] : 0;
            list.Add(new TenantReport(name, mine.Count, gpuHours,
                w.Length > 0 ? w.Average() : 0, Percentile.Of(w, 0.99), mine.Count > 0 ? mine.Average(i => (double)(run.End[i] - jobs[i].Spec.SubmitTime)) : 0)
            {
                Owner = node < 0 ? name : scheduler.Tenants.Name(scheduler.Tenants.Owner(node)),
                GuaranteeGpus = guarantee,
                UtilizationOfGuarantee = guarantee > 0 && makespan > 0 ? gpuHours * 3600 / ((double)guarantee * makespan) : 0,
                NeverFitJobs = neverFit.GetValueOrDefault(name),
                BorrowedGpuHours = meter is null || node < 0 || node >= meter.BorrowedGpuSeconds.Count ? 0 : meter.BorrowedGpuSeconds[node] / 3600,
                LentGpuHours = meter is null || node < 0 || node >= meter.LentGpuSeconds.Count ? 0 : meter.LentGpuSeconds[node] / 3600,
                GuaranteeHeld = guarantee > 0 && demand > 0 ? 1 - meter!.ShortSeconds[node] / demand : null,
                Preempted = lostByTenant.GetValueOrDefault(name).Count,
                LostGpuHours = lostByTenant.GetValueOrDefault(name).Lost / 3600,
                EnergyKwh = energyBy.GetValueOrDefault(name).Joules / 3.6e6,
                EnergyCost = energyBy.GetValueOrDefault(name).Cost,
                GrantUsedGpuHours = node < 0 ? 0 : scheduler.Tenants.GrantUse(node).Sum(g => g.UsedGpuHours),
                GrantOverrunGpuHours = node < 0 ? 0 : scheduler.Tenants.GrantOverrunGpuHours(node),
            });
        }
        return list;
    }

    private static List<OwnerReport> Owners(List<TenantReport> tenants, TraceJob[] jobs, RunState run)
    {
        var ownerOf = tenants.ToDictionary(t => t.Tenant, t => t.Owner, StringComparer.Ordinal);
        var waitsBy = run.Started.GroupBy(i => ownerOf.GetValueOrDefault(jobs[i].Spec.Tenant, jobs[i].Spec.Tenant))
            .ToDictionary(g => g.Key, g => g.Select(i => run.Start[i] - jobs[i].Spec.SubmitTime).ToArray());
        return [.. tenants.GroupBy(t => t.Owner).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var w = waitsBy.GetValueOrDefault(g.Key) ?? [];
            return new OwnerReport(g.Key, g.Sum(t => t.Jobs), g.Sum(t => t.GpuHours), w.Length > 0 ? w.Average() : 0, Percentile.Of(w, 0.99),
                g.Sum(t => t.BorrowedGpuHours), g.Sum(t => t.LentGpuHours));
        })];
    }
}
