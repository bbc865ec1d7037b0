namespace GpuFleet.Core.Scheduling;

/// <summary>Orders jobs by submission time, then id: the oldest first, whatever their priority.</summary>
internal sealed class SubmitOrder : IComparer<JobRecord>
{
    public static readonly SubmitOrder Instance = new();

    public int Compare(JobRecord? x, JobRecord? y)
    {
        var c = x!.Spec.SubmitTime.CompareTo(y!.Spec.SubmitTime);
        return c != 0 ? c : x.Spec.Id.CompareTo(y.Spec.Id);
    }
}
