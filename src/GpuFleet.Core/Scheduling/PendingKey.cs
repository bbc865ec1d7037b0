namespace GpuFleet.Core.Scheduling;

/// <summary>Sort key of a pending job: higher priority first, then earlier submission, then lower id.</summary>
internal readonly record struct PendingKey(int NegatedPriority, long SubmitTime, long Id) : IComparable<PendingKey>
{
    public int CompareTo(PendingKey other)
    {
        var c = NegatedPriority.CompareTo(other.NegatedPriority);
        if (c != 0) return c;
        c = SubmitTime.CompareTo(other.SubmitTime);
        return c != 0 ? c : Id.CompareTo(other.Id);
    }
}
