using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// The digital twin: a discrete-event simulation on a virtual clock that drives the real
/// <see cref="FleetScheduler"/>. Events are job arrivals (from the trace) and job ends (at start +
/// run time, or at the time limit if that comes first). After all events of one instant are applied,
/// one scheduling cycle runs and the simulated executor carries out its decisions: placements start
/// (after the grace time of the jobs evicted for them, and after moving their data when they run away
/// from it), evicted jobs stop and keep the work up to their last checkpoint.
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

        var run = new RunState(ordered.Length);
        var ends = new PriorityQueue<(int Index, int Version), (long Time, int Index)>();
        var tenantOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var first = ordered.Length > 0 ? ordered[0].Spec.SubmitTime : 0;
        var meter = new FleetMeter(fleet, first, options.SampleIntervalSeconds);
        var tenants = scheduling.Tenants.Tenants.Count > 0 ? new TenantMeter(fleet) : null;
        var next = 0;
        var progressStep = Math.Max(1, ordered.Length / 200);
        var lastTime = first;
        var busyWhileArriving = 0.0;

        int TenantNode(string name)
        {
            if (tenantOf.TryGetValue(name, out var n)) return n;
            for (var k = tenantOf.Count; k < scheduler.Tenants.Count; k++) tenantOf[scheduler.Tenants.Name(k)] = k;
            return tenantOf[name];
        }

        while (next < ordered.Length || ends.Count > 0)
        {
            var now = long.MaxValue;
            if (next < ordered.Length) now = ordered[next].Spec.SubmitTime;
            if (ends.TryPeek(out _, out var e) && e.Time < now) now = e.Time;
            meter.Advance(now);
            tenants?.Advance(now);
            lastTime = now;

            while (ends.TryPeek(out var ev, out var at) && at.Time == now)
            {
                ends.Dequeue();
                if (ev.Version != run.Version[ev.Index]) continue; // evicted before this end
                scheduler.End(ordered[ev.Index].Spec.Id, now);
                Charge(fleet, run, ev.Index, ordered[ev.Index].Spec.Gpus, now);
            }
            while (next < ordered.Length && ordered[next].Spec.SubmitTime == now)
            {
                var spec = ordered[next].Spec;
                var result = scheduler.Submit(spec);
                if (!result.Accepted)
                {
                    if (result.ExceedsGuarantee) run.NeverFit.Add(next);
                    else run.Rejected.Add(next);
                    if (run.RejectedExamples.Count < 5) run.RejectedExamples.Add($"job {result.JobId}: {result.Error}");
                }
                else
                {
                    run.Remaining[next] = ordered[next].RuntimeSeconds;
                    tenants?.AddPending(TenantNode(spec.Tenant), spec.Gpus);
                }
                if (++next % progressStep == 0) options.Progress?.Invoke((double)next / ordered.Length);
                if (next == ordered.Length) busyWhileArriving = meter.BusyGpuSeconds;
            }

            var cycle = scheduler.RunCycle(now);
            run.Cycles++;
            foreach (var p in cycle.Preemptions)
            {
                var idx = indexOf[p.VictimJobId];
                var job = ordered[idx];
                // The victim keeps the work up to its last checkpoint; the rest is lost.
                var ran = Math.Max(0, now - run.WorkStart[idx]);
                var interval = job.Spec.CheckpointIntervalSeconds;
                var saved = interval > 0 ? ran / interval * interval : 0;
                run.Remaining[idx] = Math.Max(1, run.Remaining[idx] - saved);
                run.Version[idx]++;
                run.Preemptions.Add((p, now));
                Charge(fleet, run, idx, job.Spec.Gpus, now);
                tenants?.AddPending(TenantNode(job.Spec.Tenant), job.Spec.Gpus);
            }
            foreach (var placement in cycle.Placements)
            {
                var idx = indexOf[placement.JobId];
                var job = ordered[idx];
                var transfer = job.Spec.DataSite is { } data
                    ? (long)Math.Ceiling(fleet.TransferSeconds(fleet.SiteIndex(data), placement.Site, job.Spec.DataGb))
                    : 0;
                var workStart = now + placement.StartDelaySeconds + transfer;
                if (run.Start[idx] < 0) run.Start[idx] = workStart;
                run.Placed[idx] = now;
                run.WorkStart[idx] = workStart;
                run.Site[idx] = placement.Site;
                run.Model[idx] = placement.Model;
                var limit = job.Spec.TimeLimitSeconds;
                var work = Math.Min(run.Remaining[idx], limit);
                if (run.Remaining[idx] > limit) run.TimedOut.Add(idx);
                run.End[idx] = Math.Min(workStart + Math.Max(1, work), now + placement.StartDelaySeconds + limit);
                ends.Enqueue((idx, run.Version[idx]), (run.End[idx], idx));
                if (run.Starts[idx]++ == 0) run.Started.Add(idx);
                tenants?.RemovePending(TenantNode(job.Spec.Tenant), job.Spec.Gpus);
            }
            meter.Observe(scheduler, scheduler.PendingCount);
            tenants?.Observe(scheduler);
        }
        meter.Finish();
        options.Progress?.Invoke(1);
        var arrivalSpan = ordered.Length > 0 ? ordered[^1].Spec.SubmitTime - first : 0;
        var utilizationWhileArriving = arrivalSpan > 0 ? busyWhileArriving / ((double)fleet.TotalGpus * arrivalSpan) : 0;
        return ReportBuilder.Build(fleet, ordered, scheduling, scheduler, options.TraceName, run, meter, tenants, first, lastTime, utilizationWhileArriving);
    }

    /// <summary>Charges a job the facility energy of its placement up to now — its GPUs' busy power × the site's PUE — and its price.</summary>
    private static void Charge(Fleet fleet, RunState run, int idx, int gpus, long now)
    {
        var joules = fleet.BusyEnergyJoules(run.Model[idx], run.Site[idx], (double)gpus * Math.Max(0, now - run.Placed[idx]));
        run.EnergyJ[idx] += joules;
        run.Cost[idx] += fleet.EnergyCost(run.Site[idx], joules);
    }
}
