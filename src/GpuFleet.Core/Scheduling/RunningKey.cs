namespace GpuFleet.Core.Scheduling;

/// <summary>Sort key of a running job: the time its limit runs out, then id.</summary>
internal readonly record struct RunningKey(long End, long Id) : IComparable<RunningKey>
{
    public int CompareTo(RunningKey other)
    {
        var c = End.CompareTo(other.End);
        return c != 0 ? c : Id.CompareTo(other.Id);
    }
}
