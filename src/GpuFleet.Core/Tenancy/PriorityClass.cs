namespace GpuFleet.Core.Tenancy;

/// <summary>
/// A priority class. A job of a higher class may preempt a running job of a lower, preemptible class
/// of its own tenant, or of a tenant running above its guarantee; never a job younger than that
/// job's <see cref="MinRuntimeSeconds"/>.
/// </summary>
/// <param name="Name">Name jobs ask for.</param>
/// <param name="Priority">Higher goes first within a tenant and may preempt lower.</param>
/// <param name="Preemptible">Whether a higher class may preempt it (reclaim of borrowed GPUs applies to every class).</param>
/// <param name="MinRuntimeSeconds">A job of this class runs at least this long before anything may preempt it.</param>
/// <param name="GraceSeconds">Time an evicted job gets to checkpoint and exit before its GPUs are given to the preemptor.</param>
/// <param name="BestEffort">Runs only on idle capacity: always counted as borrowing, so any guaranteed demand reclaims it.</param>
public sealed record PriorityClass(string Name, int Priority, bool Preemptible, long MinRuntimeSeconds, long GraceSeconds, bool BestEffort = false)
{
    /// <summary>Production services and deadlines: never preempted by priority.</summary>
    public static readonly PriorityClass Production = new("production", 1000, false, 600, 60);
    /// <summary>The default class.</summary>
    public static readonly PriorityClass Normal = new("normal", 0, false, 600, 60);
    /// <summary>Work that accepts preemption by higher classes of its tenant.</summary>
    public static readonly PriorityClass PreemptibleClass = new("preemptible", -100, true, 300, 30);
    /// <summary>Runs on what is idle; first to go.</summary>
    public static readonly PriorityClass BestEffortClass = new("best-effort", -1000, true, 120, 30, BestEffort: true);

    /// <summary>The built-in classes.</summary>
    public static IReadOnlyList<PriorityClass> Defaults { get; } = [Production, Normal, PreemptibleClass, BestEffortClass];
}
