namespace GpuFleet.Core.Scheduling;

/// <summary>A named scheduling policy: an order plus whether later jobs may start ahead of a blocked one.</summary>
/// <param name="Name">Name as given to <c>--policy</c>.</param>
/// <param name="Order">Queue order.</param>
/// <param name="Backfill">EASY backfill: reserve for the first blocked job and let later jobs start only if they do not delay it.</param>
/// <param name="Quotas">How tenants' guarantees bound what they run.</param>
/// <param name="Preemption">Whether jobs within their guarantee reclaim lent GPUs, and higher classes preempt lower ones of their tenant.</param>
public sealed record SchedulingPolicy(string Name, QueueOrder Order, bool Backfill, QuotaMode Quotas = QuotaMode.None, bool Preemption = false)
{
    /// <summary>Strict first in, first out: nothing passes a blocked job.</summary>
    public static readonly SchedulingPolicy Fifo = new("fifo", QueueOrder.Submit, false);
    /// <summary>Submission order with EASY backfill.</summary>
    public static readonly SchedulingPolicy EasyBackfill = new("backfill", QueueOrder.Submit, true);
    /// <summary>Decayed fair share with EASY backfill.</summary>
    public static readonly SchedulingPolicy FairShare = new("fairshare", QueueOrder.FairShare, true);

    /// <summary>Each tenant confined to its guarantee: static partitions, no lending.</summary>
    public static readonly SchedulingPolicy Static = new("static", QueueOrder.FairShare, true, QuotaMode.Confined);
    /// <summary>Guarantees with lending and reclaim, hierarchical decayed fair share, EASY backfill and preemption.</summary>
    public static readonly SchedulingPolicy Shared = new("shared", QueueOrder.FairShare, true, QuotaMode.Lending, Preemption: true);

    /// <summary>Every built-in policy.</summary>
    public static IReadOnlyList<SchedulingPolicy> All { get; } = [Fifo, EasyBackfill, FairShare, Static, Shared];

    /// <summary>The policy with this name, or null.</summary>
    public static SchedulingPolicy? Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
}
