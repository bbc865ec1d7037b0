using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Why a pending job waits, in codes and in words, and when it may start. Jobs the last cycle looked
/// at carry their own reason; the others get theirs lazily — from their kind's settlement, from where
/// the walk stopped, or from their class's failure — so a cycle over 100,000 pending jobs costs what it
/// looks at, not a reason each.
/// </summary>
internal sealed class PendingReasonExplainer(Fleet fleet, TenantLedger ledger, RunningJobs running, ShadowPlanner shadow)
{
    /// <summary>Why <paramref name="job"/> (pending) waits after <paramref name="cycle"/>, the last one run.</summary>
    public PendingExplanation Explain(JobRecord job, SchedulingCycle cycle, SettledJobKinds settled)
    {
        var epoch = cycle.Epoch;
        PendingReason reason;
        long? blocking = null, estimate = null;
        if (job.ReasonEpoch == epoch)
        {
            (reason, blocking, estimate) = (job.Reason, job.BlockingJob, job.EstimatedStart);
        }
        else if (settled.TryGetReason(job, epoch, out var settledReason, out var settledBlocking))
        {
            (reason, blocking) = (settledReason, settledBlocking);
        }
        else if (cycle.StopReason == PendingReason.BehindHead)
        {
            (reason, blocking) = (PendingReason.BehindHead, cycle.StopBlockingJob);
        }
        else if (job.Class.LongFailEpoch == epoch || job.Class.ShortFailEpoch == epoch)
        {
            (reason, blocking) = (job.Class.FailReason, job.Class.FailBlockingJob);
        }
        else if (cycle.StopReason is { } stop)
        {
            (reason, blocking) = (stop, cycle.StopBlockingJob);
        }
        else
        {
            reason = PendingReason.NotYetConsidered;
        }
        estimate ??= Estimate(job, reason, cycle.Now);
        return new PendingExplanation(job.Spec.Id, reason, blocking, estimate, Describe(job, reason, blocking, estimate));
    }

    /// <summary>
    /// When a pending job is expected to start, from a test-only placement: the first time, as running
    /// jobs end by their limits, that its quota (for quota reasons) or the GPUs (otherwise) let it fit.
    /// Jobs ahead of it are not counted, so this is the earliest start, not a promise.
    /// </summary>
    private long? Estimate(JobRecord job, PendingReason reason, long now)
    {
        switch (reason)
        {
            case PendingReason.GrantExhausted:
                return ledger.GrantState(job.Tenant, now).NextOpen;
            case PendingReason.GuaranteeInUse or PendingReason.BorrowLimitReached:
                long? best = null;
                foreach (var p in job.Class.Pools)
                {
                    var m = fleet.PoolModel(p);
                    var need = ledger.Use(job.Tenant, m) + job.Spec.Gpus - ledger.Guarantee(job.Tenant, m);
                    if (reason == PendingReason.GuaranteeInUse && job.Spec.Gpus > ledger.Guarantee(job.Tenant, m)) continue;
                    foreach (var r in running.OfTenant(job.Tenant).Where(r => r.Model == m).OrderBy(r => r.ExpectedEnd))
                    {
                        need -= r.Spec.Gpus;
                        if (need > 0) continue;
                        best = best is null ? r.ExpectedEnd : Math.Min(best.Value, r.ExpectedEnd);
                        break;
                    }
                }
                return best is null ? null : Math.Max(best.Value, now);
            default:
                return shadow.EarliestFit(job.Class, now, running.ByEnd);
        }
    }

    private string Describe(JobRecord job, PendingReason reason, long? blocking, long? estimate)
    {
        var need = $"{job.Spec.Gpus} GPU{(job.Spec.Gpus == 1 ? "" : "s")}";
        var text = reason switch
        {
            PendingReason.NoFreeGpus => $"waiting for {need}: not enough free GPUs of model {ModelNames(job.Class.ModelMask)}",
            PendingReason.Fragmented => $"waiting for {need} in one {(job.Class.Levels.Min() == PlacementLevel.Node ? "node" : "NVLink domain")}: enough are free, but scattered",
            PendingReason.Reserved => $"next to start: {need} reserved, starting by t={estimate}",
            PendingReason.HeldForReservation => $"waiting: free GPUs are held for job {blocking}, and this job would run past its start",
            PendingReason.BehindHead => $"waiting behind job {blocking} (first in, first out)",
            PendingReason.BeyondBackfillWindow => "waiting: the last cycle reached its backfill window before this job",
            PendingReason.GuaranteeInUse => $"waiting for {need}: tenant '{job.Spec.Tenant}' uses its whole guarantee (quota exhausted) and this policy does not lend",
            PendingReason.BorrowLimitReached => $"waiting for {need}: tenant '{job.Spec.Tenant}' would pass its borrowing limit (quota exhausted)",
            PendingReason.KeptForLenders => $"waiting for {need}: the idle GPUs are guaranteed to tenants that do not lend them to '{job.Spec.Tenant}'",
            PendingReason.GrantExhausted => $"held: the grants of '{job.Spec.Tenant}' have no GPU-hours left" + (estimate is null ? "" : $"; the next grant opens at t={estimate}"),
            PendingReason.SitePowerCap => $"waiting for {need}: GPUs are free, but starting it would take their site past its power cap",
            PendingReason.Preempted => $"preempted by job {blocking} and queued again",
            PendingReason.NoCpuOrMemory => $"waiting for {need}: GPUs are free, but not on nodes with the CPU cores and memory it asks for",
            PendingReason.NoFreeSlice => $"waiting for {job.Spec.Gpus} slice{(job.Spec.Gpus == 1 ? "" : "s")} of {job.Spec.Slice} on one node: no GPU has room for {(job.Spec.Gpus == 1 ? "it" : "them")}, and no idle GPU can be split for {(job.Spec.Gpus == 1 ? "it" : "them")} now",
            _ => "waiting for the next scheduling cycle",
        };
        return estimate is null || reason is PendingReason.Reserved or PendingReason.GrantExhausted ? text : $"{text}; earliest start t={estimate}";
    }

    private string ModelNames(ulong mask) =>
        string.Join(" or ", fleet.Models.Where((_, i) => (mask & (1UL << i)) != 0).Select(m => m.Name));
}
