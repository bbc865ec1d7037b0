namespace GpuFleet.Core.Scheduling;

/// <summary>Orders running jobs by the time their limit runs out, then id: the order in which their GPUs are sure to come free.</summary>
internal sealed class RunningOrder : IComparer<JobRecord>
{
    public static readonly RunningOrder Instance = new();

    public int Compare(JobRecord? x, JobRecord? y)
    {
        var c = x!.ExpectedEnd.CompareTo(y!.ExpectedEnd);
        return c != 0 ? c : x.Spec.Id.CompareTo(y.Spec.Id);
    }
}
