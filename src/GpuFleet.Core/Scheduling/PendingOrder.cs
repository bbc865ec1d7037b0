namespace GpuFleet.Core.Scheduling;

/// <summary>Orders pending jobs by their <see cref="PendingKey"/>; the queues hold the records themselves, so a walk needs no lookups.</summary>
internal sealed class PendingOrder : IComparer<JobRecord>
{
    public static readonly PendingOrder Instance = new();

    public int Compare(JobRecord? x, JobRecord? y) => x!.Key.CompareTo(y!.Key);
}
