namespace GpuFleet.Core.Decisions;

/// <summary>Why a job is still waiting. <see cref="PendingExplanation"/> turns it into words.</summary>
public enum PendingReason
{
    /// <summary>No cycle has looked at the job yet.</summary>
    NotYetConsidered = 0,
    /// <summary>Not enough free GPUs of an acceptable model.</summary>
    NoFreeGpus,
    /// <summary>Enough GPUs are free in total, but not inside one node or NVLink domain as the job needs.</summary>
    Fragmented,
    /// <summary>First in line: GPUs are reserved for it and it starts at the estimated time.</summary>
    Reserved,
    /// <summary>Free GPUs are held for a reserved job and this one would run past that reservation.</summary>
    HeldForReservation,
    /// <summary>Strict first-in-first-out: the job waits behind the first job in line.</summary>
    BehindHead,
    /// <summary>The cycle stopped looking before it reached the job (backfill window).</summary>
    BeyondBackfillWindow,
    /// <summary>The tenant's guarantee is in use and its policy does not let it borrow (static partitions).</summary>
    GuaranteeInUse,
    /// <summary>Borrowing more would take a node of the tenant's path past its borrowing limit.</summary>
    BorrowLimitReached,
    /// <summary>The idle GPUs are guaranteed to tenants that do not lend them to this one.</summary>
    KeptForLenders,
    /// <summary>The project's grants have no GPU-hours left.</summary>
    GrantExhausted,
    /// <summary>GPUs are free, but starting the job would take the site past its power cap.</summary>
    SitePowerCap,
    /// <summary>The job was evicted to give its GPUs back to their owner or to a higher class; it is queued again.</summary>
    Preempted,
    /// <summary>GPUs are free, but the nodes that have them lack the CPU cores or memory the job asks for.</summary>
    NoCpuOrMemory,
    /// <summary>No GPU has a free slice of the kind asked for, and no idle GPU can be partitioned for it now.</summary>
    NoFreeSlice,
}
