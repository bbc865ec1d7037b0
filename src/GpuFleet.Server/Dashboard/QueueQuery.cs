using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// One page of the queue, read with the store's own keyset-paged listing (jobs by id, of a tenant and
/// a state, after an id) — the query <c>GET /api/v1/jobs</c> runs — and filtered on site, model and
/// class as it is read. Each state is read on its own and the two merged by id, so rows keep their
/// order from one refresh to the next.
/// </summary>
/// <remarks>
/// Example: filter "running at site s", page size 2, jobs 3 (s), 5 (t), 8 (s), 9 (s): the page is 3, 8
/// and its next page starts after 8. A filter that matches few rows reads at most
/// <see cref="ScanBudget"/> rows per state for one page; the page then ends where reading stopped and
/// "Next" goes on from there, so no request reads the whole table.
/// </remarks>
internal static class QueueQuery
{
    /// <summary>Rows on one page.</summary>
    public const int PageSize = 50;

    /// <summary>Most rows read per state for one page.</summary>
    public const int ScanBudget = 5_000;

    private const int Batch = 500;

    /// <summary>The jobs of one page, in id order, and where the next page starts (null: no more).</summary>
    public static async Task<(IReadOnlyList<StoredJob> Jobs, long? Next)> PageAsync(JobStore store, QueueFilter filter, string defaultClass, CancellationToken cancel)
    {
        var all = new List<StoredJob>();
        long? cut = null;
        foreach (var state in filter.JobStates)
        {
            var last = filter.After;
            var matched = 0;
            var scanned = 0;
            while (true)
            {
                var batch = await store.ListAsync(filter.Tenant, state, last, Batch, cancel);
                scanned += batch.Count;
                foreach (var job in batch)
                {
                    if (!filter.Matches(job, defaultClass)) continue;
                    all.Add(job);
                    matched++;
                }
                if (batch.Count < Batch) break;
                last = batch[^1].Id;
                // Read up to here and no further: rows of the other state past this id wait for the next page.
                if (matched >= PageSize || scanned >= ScanBudget)
                {
                    cut = cut is { } c ? Math.Min(c, last) : last;
                    break;
                }
            }
        }
        var shown = all.Where(j => cut is null || j.Id <= cut).OrderBy(j => j.Id).ToList();
        if (shown.Count > PageSize) return (shown[..PageSize], shown[PageSize - 1].Id);
        return (shown, cut);
    }

    /// <summary>The rows of <paramref name="jobs"/>: time in state from each one's latest event (one read for all), and the scheduler's reason for each pending one.</summary>
    public static async Task<IReadOnlyList<QueueRow>> RowsAsync(IReadOnlyList<StoredJob> jobs, JobStore store, LiveScheduler scheduler, ServerSettings settings,
        CancellationToken cancel)
    {
        var rows = new List<QueueRow>(jobs.Count);
        var changed = await store.LastChangesAsync([.. jobs.Select(j => j.Id)], cancel);
        foreach (var job in jobs)
        {
            DateTimeOffset? since = changed.TryGetValue(job.Id, out var at) ? at : null;
            string? reason = null;
            DateTimeOffset? estimate = null;
            // Only the replica that schedules knows why a job waits; elsewhere the column stays empty.
            if (job.State == JobState.Pending && scheduler.IsLeader)
            {
                var why = await scheduler.ExplainAsync(job.Id, cancel);
                reason = why is null ? ReasonText.NotYetSeen : ReasonText.Of(why.Message, settings);
                estimate = why?.EstimatedStart is { } s ? settings.FromClock(s) : null;
            }
            rows.Add(new QueueRow(job, since, reason, estimate));
        }
        return rows;
    }
}
