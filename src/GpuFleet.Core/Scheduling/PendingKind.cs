namespace GpuFleet.Core.Scheduling;

/// <summary>
/// One tenant's waiting jobs of one kind (class and priority): how many, and, where queues are split by
/// kind (policies whose quotas settle kinds), the jobs in priority and submission order, how many ask for
/// each time limit (users pick a few limits, so this stays small) and which are not yet marked blocked.
/// Elsewhere it only counts: a fleet with 100,000 jobs waiting keeps no more than it reads.
/// </summary>
internal sealed class PendingKind(bool split)
{
    private readonly SortedDictionary<long, int>? _limits = split ? [] : null;
    // Jobs whose FirstBlockedAt is unset: a kind found blocked marks them all at once.
    private readonly HashSet<JobRecord>? _unmarked = split ? [] : null;
    private int _count;
    private long _shortest = long.MaxValue;

    /// <summary>The jobs, highest priority first, then earliest submission; null where queues are not split by kind.</summary>
    public SortedSet<JobRecord>? Jobs { get; } = split ? new(PendingOrder.Instance) : null;

    /// <summary>The shortest time limit asked (where queues are split by kind).</summary>
    public long ShortestLimit => _shortest;

    public void Add(JobRecord job)
    {
        _count++;
        if (!split) return;
        Jobs!.Add(job);
        if (job.FirstBlockedAt is null) _unmarked!.Add(job);
        _limits![job.Limit] = _limits.GetValueOrDefault(job.Limit) + 1;
        _shortest = Math.Min(_shortest, job.Limit);
    }

    /// <summary>Removes a job; true when none is left.</summary>
    public bool Remove(JobRecord job)
    {
        if (split)
        {
            Jobs!.Remove(job);
            _unmarked!.Remove(job);
            // Looked up again only when the shortest limit's last job leaves (a walk asks for it per visit).
            if (--_limits![job.Limit] == 0 && _limits.Remove(job.Limit) && job.Limit == _shortest)
                _shortest = _limits.Count > 0 ? _limits.First().Key : long.MaxValue;
        }
        return --_count == 0;
    }

    /// <summary>Marks one job blocked from <paramref name="now"/>, unless it was already.</summary>
    public void MarkBlocked(JobRecord job, long now)
    {
        if (job.FirstBlockedAt is not null) return;
        job.FirstBlockedAt = now;
        _unmarked?.Remove(job);
    }

    /// <summary>Marks every job of the kind blocked from <paramref name="now"/> that was not already (where queues are split by kind).</summary>
    public void MarkAllBlocked(long now)
    {
        foreach (var job in _unmarked!) job.FirstBlockedAt = now;
        _unmarked.Clear();
    }

    /// <summary>A job placed (in its queue until the cycle ends) is no longer blocked.</summary>
    public void ClearBlocked(JobRecord job)
    {
        if (job.FirstBlockedAt is null) return;
        job.FirstBlockedAt = null;
        _unmarked?.Add(job);
    }
}
