using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// The digital twin: a discrete-event simulation on a virtual clock that drives the real
/// <see cref="FleetScheduler"/>. Events are job arrivals (from the trace) and job ends (at start +
/// run time, or at the time limit if that comes first). After all events of one instant are applied,
/// one scheduling cycle runs and its placements start at once (the simulated executor never fails).
/// </summary>
public static class Simulator
{
    /// <summary>Runs a trace on a fleet under a policy.</summary>
    public static SimulationResult Run(Fleet fleet, IReadOnlyList<TraceJob> jobs, SchedulerOptions scheduling, SimulationOptions? options = null)
    {
        options ??= new SimulationOptions();
        var ordered = jobs.Select((j, i) => (j, i)).OrderBy(x => x.j.Spec.SubmitTime).ThenBy(x => x.i).Select(x => x.j).ToArray();
        var scheduler = new FleetScheduler(fleet, scheduling);
        var indexOf = new Dictionary<long, int>(ordered.Length);
        for (var i = 0; i < ordered.Length; i++)
            if (!indexOf.TryAdd(ordered[i].Spec.Id, i)) throw new ArgumentException($"duplicate job id {ordered[i].Spec.Id}", nameof(jobs));

        var start = new long[ordered.Length];
        var end = new long[ordered.Length];
        Array.Fill(start, -1);
        var started = new List<int>(ordered.Length);
        var ends = new PriorityQueue<int, (long Time, int Index)>();
        var rejected = 0;
        var rejectedExamples = new List<string>();
        var timedOut = 0;
        long cycles = 0;
        var first = ordered.Length > 0 ? ordered[0].Spec.SubmitTime : 0;
        var meter = new FleetMeter(fleet, first, options.SampleIntervalSeconds);
        var next = 0;
        var progressStep = Math.Max(1, ordered.Length / 200);
        var lastTime = first;
        var busyWhileArriving = 0.0;

        while (next < ordered.Length || ends.Count > 0)
        {
            var now = long.MaxValue;
            if (next < ordered.Length) now = ordered[next].Spec.SubmitTime;
            if (ends.TryPeek(out _, out var e) && e.Time < now) now = e.Time;
            meter.Advance(now);
            lastTime = now;

            while (ends.TryPeek(out var idx, out var at) && at.Time == now)
            {
                ends.Dequeue();
                scheduler.End(ordered[idx].Spec.Id, now);
            }
            while (next < ordered.Length && ordered[next].Spec.SubmitTime == now)
            {
                var result = scheduler.Submit(ordered[next].Spec);
                if (!result.Accepted)
                {
                    rejected++;
                    if (rejectedExamples.Count < 5) rejectedExamples.Add($"job {result.JobId}: {result.Error}");
                }
                if (++next % progressStep == 0) options.Progress?.Invoke((double)next / ordered.Length);
                if (next == ordered.Length) busyWhileArriving = meter.BusyGpuSeconds;
            }

            var cycle = scheduler.RunCycle(now);
            cycles++;
            foreach (var placement in cycle.Placements)
            {
                var idx = indexOf[placement.JobId];
                var job = ordered[idx];
                start[idx] = now;
                var run = Math.Min(job.RuntimeSeconds, job.Spec.TimeLimitSeconds);
                if (job.RuntimeSeconds > job.Spec.TimeLimitSeconds) timedOut++;
                end[idx] = now + Math.Max(1, run);
                ends.Enqueue(idx, (end[idx], idx));
                started.Add(idx);
            }
            meter.Observe(scheduler, scheduler.PendingCount);
        }
        meter.Finish();
        options.Progress?.Invoke(1);
        var arrivalSpan = ordered.Length > 0 ? ordered[^1].Spec.SubmitTime - first : 0;
        var utilizationWhileArriving = arrivalSpan > 0 ? busyWhileArriving / ((double)fleet.TotalGpus * arrivalSpan) : 0;
        return Report(fleet, ordered, scheduling.Policy.Name, options.TraceName, start, end, started, meter, rejected, rejectedExamples, timedOut, cycles, first, lastTime, utilizationWhileArriving);
    }

    private static SimulationResult Report(Fleet fleet, TraceJob[] jobs, string policy, string trace, long[] start, long[] end, List<int> started,
        FleetMeter meter, int rejected, List<string> rejectedExamples, int timedOut, long cycles, long first, long last, double utilizationWhileArriving)
    {
        var n = started.Count;
        var waits = new long[n];
        var jcts = new long[n];
        double slowdown = 0;
        for (var k = 0; k < n; k++)
        {
            var i = started[k];
            waits[k] = start[i] - jobs[i].Spec.SubmitTime;
            jcts[k] = end[i] - jobs[i].Spec.SubmitTime;
            var run = end[i] - start[i];
            slowdown += Math.Max(1.0, (double)(waits[k] + run) / Math.Max(run, 10));
        }
        var makespan = Math.Max(0, last - first);
        var tenants = started.GroupBy(i => jobs[i].Spec.Tenant).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var w = g.Select(i => start[i] - jobs[i].Spec.SubmitTime).ToArray();
            return new TenantReport(g.Key, w.Length,
                g.Sum(i => (double)(end[i] - start[i]) * jobs[i].Spec.Gpus) / 3600,
                w.Average(), Percentile.Of(w, 0.99), g.Average(i => (double)(end[i] - jobs[i].Spec.SubmitTime)));
        }).ToList();
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
        var report = new SimulationReport
        {
            Policy = policy,
            Fleet = fleet.Name,
            Trace = trace,
            FleetGpus = fleet.TotalGpus,
            Jobs = n,
            RejectedJobs = rejected,
            RejectedExamples = rejectedExamples,
            TimedOutJobs = timedOut,
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
            Cycles = cycles,
            Sites = sites,
            PerTenant = tenants,
        };
        return new SimulationResult(report, meter.Series, [.. fleet.Sites.Select(s => s.Name)]) { Waits = waits };
    }
}
