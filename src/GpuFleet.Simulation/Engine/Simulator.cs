using GpuFleet.Core.Execution;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Workloads;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// The digital twin: a discrete-event simulation on a virtual clock that drives the real
/// <see cref="FleetScheduler"/>. Events are job arrivals (from the trace) and job ends (at start +
/// run time, or at the time limit if that comes first). After all events of one instant are applied,
/// one scheduling cycle runs and the <see cref="SimulatedExecutor"/> — the same one the live service
/// runs on the real clock — carries out its decisions: placements start (after the grace time of the
/// jobs evicted for them, and after moving their data when they run away from it), evicted jobs stop
/// and keep the work up to their last checkpoint. Jobs may also be cancelled by their users (a
/// trace's cancel time), waiting or running.
/// <para>Nodes may fail (<see cref="SimulationOptions.Failures"/>, <see cref="SimulationOptions.FailureRate"/>):
/// at the failure the node's GPUs go out of service, every run on it is lost — stopped as an eviction, keeping
/// the work up to its last checkpoint, a gang's other nodes freed — and queues again under its first
/// submission time; at the repair the GPUs come back. Failures are events of the clock like arrivals, but
/// they alone do not keep the run going: it ends when the workload does.</para>
/// <para>A real cluster's delays may be modelled (<see cref="SimulationOptions.LaunchLatencySeconds"/>,
/// <see cref="SimulationOptions.ReleaseLatencySeconds"/>): a placement's work then starts that much later, and
/// an end frees its GPUs for the scheduler that much later. Example with 2 s and 1 s: a 10 s job placed at
/// t=0 starts at t=2 (its wait ends there), ends at t=12, and its GPUs take new work from t=13.</para>
/// <para>Inference services (<see cref="SimulationOptions.Services"/>) run beside the trace: each point of a
/// service's rate curve is an instant of the clock at which <see cref="ServiceFleet"/> submits or ends replicas,
/// before the cycle; replicas are jobs to the scheduler, placed, evicted and lost with their nodes like any,
/// but no trace's: they run until the run ends, and their figures are the report's <c>services</c>.
/// The trace's jobs keep their own figures (waits, completions), so a run with and without services compares.</para>
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

        var services = options.Services.Count > 0 ? Services(scheduler, options.Services, ordered) : null;
        // Every point of every rate curve, in order of time, then of service.
        var rateEvents = options.Services.SelectMany((load, s) => load.Rate.Select(p => (p.Seconds, Service: s, p.RequestsPerSecond)))
            .OrderBy(e => e.Seconds).ThenBy(e => e.Service).ToArray();
        var nextRate = 0;

        var run = new RunState(ordered.Length);
        var executor = new SimulatedExecutor(fleet, spec => ordered[indexOf[spec.Id]].RuntimeSeconds);
        var cancels = new Queue<int>(Enumerable.Range(0, ordered.Length).Where(i => ordered[i].CancelAtSeconds is not null)
            .OrderBy(i => ordered[i].CancelAtSeconds!.Value).ThenBy(i => i));
        var tenantOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var first = ordered.Length > 0 ? ordered[0].Spec.SubmitTime : 0;
        if (rateEvents.Length > 0) first = ordered.Length > 0 ? Math.Min(first, rateEvents[0].Seconds) : rateEvents[0].Seconds;
        var meter = new FleetMeter(fleet, first, options.SampleIntervalSeconds);
        var serviceMeter = services is null ? null : new ServiceMeter(services.Services, first, options.SampleIntervalSeconds);
        var tenants = scheduling.Tenants.Tenants.Count > 0 ? new TenantMeter(fleet) : null;
        var next = 0;
        var progressStep = Math.Max(1, ordered.Length / 200);
        var lastTime = first;
        var busyWhileArriving = 0.0;
        var failuresGiven = options.Failures.Count > 0 || options.FailureRate is not null;
        var outages = failuresGiven ? new NodeOutages(fleet, options.Failures, options.FailureRate, first) : null;
        var launchLatency = new WholeSecondSpread(options.LaunchLatencySeconds);
        var releaseLatency = new WholeSecondSpread(options.ReleaseLatencySeconds);
        // Runs that ended but whose GPUs the scheduler does not yet know to be free, by when it learns of it.
        var releases = new PriorityQueue<long, (long Time, long JobId)>();
        var releasing = new HashSet<long>();

        int TenantNode(string name)
        {
            if (tenantOf.TryGetValue(name, out var n)) return n;
            for (var k = tenantOf.Count; k < scheduler.Tenants.Count; k++) tenantOf[scheduler.Tenants.Name(k)] = k;
            return tenantOf[name];
        }

        long? drainUntil = null;
        // Stranded GPUs and fragmentation cost a pass over the nodes: taken once per sample interval, and only
        // for fleets that count CPU and memory or share GPUs.
        var sampleResources = fleet.CountsCpuOrMemory || fleet.HasSharing;
        var nextResourceSample = first;
        while (true)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            if (next < ordered.Length || executor.NextWake is not null || cancels.Count > 0 || releases.Count > 0 || nextRate < rateEvents.Length)
            {
                drainUntil = null;
            }
            else
            {
                // Nothing left to arrive or run, but jobs wait while nodes are down: they may be waiting for a
                // repair, so the run goes on until the nodes down now are back — no further, for failures come
                // without end and a job may wait for something else (an exhausted grant) that no repair brings.
                if (outages is null || scheduler.PendingCount == 0) break;
                drainUntil ??= outages.LatestRepair;
                if (drainUntil is not { } until || outages.NextRepair is not { } due || due > until) break;
            }
            // The next instant: an arrival, the end the executor has planned, a cancellation, a failure or a repair.
            var now = long.MaxValue;
            if (next < ordered.Length) now = ordered[next].Spec.SubmitTime;
            if (executor.NextWake is { } wake && wake < now) now = wake;
            if (cancels.TryPeek(out var c) && ordered[c].CancelAtSeconds!.Value < now) now = ordered[c].CancelAtSeconds!.Value;
            if (outages?.NextFailure is { } failure && failure < now) now = failure;
            if (outages?.NextRepair is { } repair && repair < now) now = repair;
            if (nextRate < rateEvents.Length && rateEvents[nextRate].Seconds < now) now = rateEvents[nextRate].Seconds;
            // An instant that only frees GPUs is no event of the workload: the makespan ends at the last end.
            var releaseOnly = false;
            if (releases.TryPeek(out _, out var freed) && freed.Time < now) (now, releaseOnly) = (freed.Time, true);
            meter.Advance(now);
            serviceMeter?.Advance(now);
            tenants?.Advance(now);
            if (!releaseOnly) lastTime = now;

            // In order: runs that ended, failures, repairs, then cancellations, then arrivals; then one cycle.
            // A run that ends at the instant its node fails has finished its work.
            foreach (var end in executor.Ended(now))
            {
                var idx = indexOf[end.JobId];
                var late = releaseLatency.Next();
                if (late == 0) scheduler.End(end.JobId, now);
                else
                {
                    releases.Enqueue(end.JobId, (now + late, end.JobId));
                    releasing.Add(end.JobId);
                }
                Charge(fleet, run, idx, now);
            }
            while (releases.TryPeek(out var released, out var at) && at.Time <= now)
            {
                releases.Dequeue();
                releasing.Remove(released);
                scheduler.End(released, now);
            }
            if (outages is not null)
            {
                foreach (var node in outages.FailuresAt(now))
                {
                    scheduler.SetOutOfService(node, fleet.NodeGpus(node));
                    foreach (var lost in executor.NodeFailed(node, now))
                    {
                        var idx = indexOf[lost.JobId];
                        var job = ordered[idx];
                        if (!scheduler.Requeue(lost.JobId, now)) throw new InvalidOperationException($"job {lost.JobId} ran on node {fleet.NodeName(node)} but the scheduler does not hold it as running");
                        Charge(fleet, run, idx, now);
                        // Its run ended here; a later placement plans the next one.
                        run.End[idx] = now;
                        run.TimedOut.Remove(idx);
                        run.FailureRequeues++;
                        run.FailureLostGpuSeconds += (double)lost.LostWorkSeconds * job.Spec.Gpus;
                        tenants?.AddPending(TenantNode(job.Spec.Tenant), job.Spec.Gpus);
                    }
                    if (services is not null)
                        foreach (var id in services.PlacedReplicas())
                        {
                            if (scheduler.Allocation(id) is not { } gpus || !gpus.Any(g => g.Node == node) || !services.Requeue(id, now)) continue;
                            serviceMeter!.Stopped(id);
                            run.FailureRequeues++;
                            var spec = services.Services[services.ServiceOf(id)];
                            tenants?.AddPending(TenantNode(spec.Tenant), spec.GpusPerReplica);
                        }
                }
                foreach (var node in outages.RepairsAt(now)) scheduler.SetOutOfService(node, 0);
            }
            while (cancels.TryPeek(out var idx) && ordered[idx].CancelAtSeconds!.Value == now)
            {
                cancels.Dequeue();
                var spec = ordered[idx].Spec;
                if (releasing.Contains(spec.Id) || !scheduler.End(spec.Id, now)) continue; // never admitted, or already ended
                run.Cancelled.Add(idx);
                if (executor.Cancel(spec.Id, now))
                {
                    Charge(fleet, run, idx, now);
                    run.End[idx] = now;
                }
                else
                {
                    tenants?.RemovePending(TenantNode(spec.Tenant), spec.Gpus);
                }
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
                    tenants?.AddPending(TenantNode(spec.Tenant), spec.Gpus);
                }
                if (++next % progressStep == 0) options.Progress?.Invoke((double)next / ordered.Length);
                if (next == ordered.Length) busyWhileArriving = meter.BusyGpuSeconds;
            }

            while (nextRate < rateEvents.Length && rateEvents[nextRate].Seconds == now)
            {
                var (_, s, rate) = rateEvents[nextRate++];
                ScaleService(services!, serviceMeter!, tenants, TenantNode, s, rate, now);
            }

            var cycle = scheduler.RunCycle(now);
            run.Cycles++;
            services?.Observe(cycle);
            foreach (var p in cycle.Preemptions)
            {
                if (ServiceFleet.IsReplicaId(p.VictimJobId))
                {
                    serviceMeter!.Evicted(p.VictimJobId);
                    run.Preemptions.Add((p, now));
                    tenants?.AddPending(TenantNode(p.VictimTenant), p.Gpus);
                    continue;
                }
                var idx = indexOf[p.VictimJobId];
                var job = ordered[idx];
                executor.Evict(p.VictimJobId, now);
                run.Preemptions.Add((p, now));
                Charge(fleet, run, idx, now);
                tenants?.AddPending(TenantNode(job.Spec.Tenant), job.Spec.Gpus);
            }
            foreach (var placement in cycle.Placements)
            {
                if (ServiceFleet.IsReplicaId(placement.JobId))
                {
                    var s = services!.ServiceOf(placement.JobId);
                    var service = services.Services[s];
                    // A replica runs from its placement plus its start delay: the grace of those it evicted, and the launch.
                    serviceMeter!.Placed(placement.JobId, now + placement.StartDelaySeconds + launchLatency.Next(), services.IsEdge(s, placement.Site),
                        service.LatencyBudgetMs is not { } budget || fleet.RegionLatencyMs(service.Region!, placement.Site) <= budget);
                    tenants?.RemovePending(TenantNode(service.Tenant), service.GpusPerReplica);
                    continue;
                }
                var idx = indexOf[placement.JobId];
                var job = ordered[idx];
                var delay = launchLatency.Next();
                executor.Launch(job.Spec, delay == 0 ? placement : placement with { StartDelaySeconds = placement.StartDelaySeconds + delay }, now);
                var plan = executor.Plan(placement.JobId)!;
                if (run.Start[idx] < 0) run.Start[idx] = plan.WorkStart;
                run.Placed[idx] = now;
                run.Equivalents[idx] = placement.GpuEquivalents;
                run.Site[idx] = placement.Site;
                run.Model[idx] = placement.Model;
                if (plan.TimesOut) run.TimedOut.Add(idx);
                run.End[idx] = plan.End;
                if (run.Starts[idx]++ == 0) run.Started.Add(idx);
                tenants?.RemovePending(TenantNode(job.Spec.Tenant), job.Spec.Gpus);
            }
            options.OnCycle?.Invoke(scheduler, cycle);
            meter.Observe(scheduler, scheduler.PendingCount, outages?.OutOfServiceGpus ?? 0);
            if (sampleResources && now >= nextResourceSample)
            {
                nextResourceSample = now + options.SampleIntervalSeconds;
                run.StrandedSamples.Add(scheduler.StrandedGpus());
                var (free, fragmented) = scheduler.Fragmentation();
                if (free > 0) run.FragmentationSamples.Add(fragmented / free);
            }
            tenants?.Observe(scheduler);
        }
        meter.Finish();
        serviceMeter?.Finish();
        options.Progress?.Invoke(1);
        var arrivalSpan = ordered.Length > 0 ? ordered[^1].Spec.SubmitTime - first : 0;
        var utilizationWhileArriving = arrivalSpan > 0 ? busyWhileArriving / ((double)fleet.TotalGpus * arrivalSpan) : 0;
        return ReportBuilder.Build(fleet, ordered, scheduling, scheduler, options.TraceName, run, meter, tenants, first, lastTime, utilizationWhileArriving, outages, serviceMeter);
    }

    /// <summary>The services of a run, checked against the fleet and the trace: their curves usable, and no trace job in the replicas' range of ids.</summary>
    private static ServiceFleet Services(FleetScheduler scheduler, IReadOnlyList<ServiceLoad> loads, TraceJob[] jobs)
    {
        for (var i = 0; i < loads.Count; i++)
            if (loads[i].RateProblem() is { } problem) throw new ServiceValidationException(i, "rate", problem);
        if (jobs.FirstOrDefault(j => ServiceFleet.IsReplicaId(j.Spec.Id)) is { } clash)
            throw new ArgumentException($"job {clash.Spec.Id}: ids from {ServiceFleet.FirstReplicaId} up are kept for service replicas", nameof(jobs));
        return new ServiceFleet(scheduler, [.. loads.Select(l => l.Service)]);
    }

    /// <summary>A service's rate changes: its replicas are submitted or ended now, before the cycle, and the meter follows.</summary>
    private static void ScaleService(ServiceFleet services, ServiceMeter meter, TenantMeter? tenants, Func<string, int> tenantNode, int s, double rate, long now)
    {
        var spec = services.Services[s];
        foreach (var change in services.Scale(s, rate, now))
        {
            switch (change.Kind)
            {
                case ReplicaChangeKind.Submitted:
                    meter.Submitted(change.JobId, s, now);
                    tenants?.AddPending(tenantNode(spec.Tenant), spec.GpusPerReplica);
                    break;
                case ReplicaChangeKind.Ended:
                    meter.Ended(change.JobId);
                    if (!change.WasPlaced) tenants?.RemovePending(tenantNode(spec.Tenant), spec.GpusPerReplica);
                    break;
                case ReplicaChangeKind.Rejected:
                    meter[s].Rejected++;
                    meter[s].RejectedExample ??= change.Error;
                    break;
            }
        }
        meter.SetDemand(s, services.Rate(s), services.Desired(s));
    }

    /// <summary>Charges a job the facility energy of its placement up to now — its GPUs' busy power × the site's PUE — and its price.</summary>
    /// <remarks>A job of slices is charged its share of compute: a 1g of 7 pays a seventh of the GPU's power.</remarks>
    private static void Charge(Fleet fleet, RunState run, int idx, long now)
    {
        var joules = fleet.BusyEnergyJoules(run.Model[idx], run.Site[idx], run.Equivalents[idx] * Math.Max(0, now - run.Placed[idx]));
        run.EnergyJ[idx] += joules;
        run.Cost[idx] += fleet.EnergyCost(run.Site[idx], joules);
    }
}
