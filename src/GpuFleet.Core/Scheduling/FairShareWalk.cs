using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Fair-share walk: the leaf whose path has the lowest use over weight, owner level first (Fair
/// Tree), goes next. Keys only grow, and only on a placement, so after a job that was not placed the
/// same leaf is still the lowest: its next jobs come straight from its queue and a skipped job costs
/// no heap operation. A placement also raises the keys of the leaf's siblings' ancestors, so a
/// dequeued key is checked against the current one and, if stale, queued again (lazy update).
/// <para>Under a policy with quotas a tenant's queue is the merge of its kinds of job (class and
/// priority), each in priority and submission order, so the merge visits its jobs in that order too. A
/// kind settled for the cycle (none of its jobs can start, and all of them were marked blocked when it
/// settled) is set aside with its place kept, instead of visiting each of its jobs to learn the same
/// again. Example: a tenant with 30,000 jobs of one settled kind and 12 of another costs 12 visits, not
/// 30,012. A kind set aside comes back past the jobs a visit-each walk would have passed meanwhile, so
/// the jobs visited, and what they decide, are the same: after an eviction (which frees GPUs and
/// unsettles every kind), at the tenant's next turn, and after its own placement (its quota answers and
/// running work changed). Without quotas nothing settles, and a tenant's queue is one.</para>
/// </summary>
internal sealed class FairShareWalk(PendingQueues pending, TenantLedger ledger, SettledJobKinds settled, long halfLifeSeconds) : IPendingWalk
{
    private readonly PriorityQueue<int, FairKey> _tenantHeap = new();

    /// <summary>Whether settled kinds are set aside (true); tests switch it off to check that setting them aside changes no decision.</summary>
    internal bool SetsAside { get; set; } = true;

    public void Walk(SchedulingCycle cycle, Func<JobRecord, bool> consider)
    {
        // Specialised per kind of queue: a tenant's one queue is walked as directly as a sorted set allows.
        if (pending.ByKind) WalkTenants(cycle, consider, t => new KindMerge(pending.KindsOf(t)));
        else WalkTenants(cycle, consider, t => new OneQueue(pending.OfTenant(t)));
        _tenantHeap.Clear();
    }

    private void WalkTenants<TQueue>(SchedulingCycle cycle, Func<JobRecord, bool> consider, Func<int, TQueue> open)
        where TQueue : ITenantQueue
    {
        var tenants = pending.TenantCount;
        var queues = new TQueue[tenants];
        ledger.BeginOrdering();
        _tenantHeap.Clear();
        for (var t = 0; t < tenants; t++)
        {
            if (pending.KindsWaiting(t) == 0) continue;
            queues[t] = open(t);
            _tenantHeap.Enqueue(t, ledger.KeyOf(t));
        }
        while (_tenantHeap.TryDequeue(out var t, out var key))
        {
            var current = ledger.KeyOf(t);
            if (current.CompareTo(key) > 0)
            {
                _tenantHeap.Enqueue(t, current);
                continue;
            }
            ref var queue = ref queues[t];
            // Between this tenant's turns others placed and it may have placed: its quota answers, and whether it
            // may evict, are not what they were, so what it set aside is visited again (and set aside again at once
            // if still settled).
            queue.BringBackSetAside(force: true, settled.Generation);
            bool more;
            do
            {
                // After an eviction, here or by another tenant, what was set aside may start now.
                queue.BringBackSetAside(force: false, settled.Generation);
                var job = queue.Next;
                var placed = consider(job);
                if (cycle.Stopped) return;
                // Every kind of job this tenant has waiting is settled for this cycle: skip the rest of its queue.
                if (!placed && settled.TenantSettled(t, cycle.Epoch)) break;
                more = queue.Advance(SetsAside && !placed && settled.KindSettled(job, cycle.Epoch), settled.Generation);
                if (!placed) continue;
                // Count a placement as the use it will add over the next half-life at most, so that one
                // tenant with many small jobs cannot take every free GPU in one cycle.
                ledger.Charge(t, job.Spec.Gpus * (double)Math.Min(job.Spec.TimeLimitSeconds, halfLifeSeconds));
                // A placement changes what the tenant's other jobs may do (its use, its running preemptible work):
                // what it set aside waits in order again, and counts as jobs left for its next turn.
                queue.BringBackSetAside(force: true, settled.Generation);
                if (queue.HasNext) _tenantHeap.Enqueue(t, ledger.KeyOf(t));
                break;
            }
            while (more);
        }
    }

    /// <summary>A tenant's waiting jobs in priority and submission order.</summary>
    private interface ITenantQueue
    {
        /// <summary>The next job in order.</summary>
        JobRecord Next { get; }

        /// <summary>Whether a job is left in order (not counting kinds set aside).</summary>
        bool HasNext { get; }

        /// <summary>
        /// Moves past the job <see cref="Next"/> gave; <paramref name="setAside"/>: its kind is settled, so its
        /// other jobs may wait aside until <paramref name="generation"/> changes. False when no job is left in order.
        /// </summary>
        bool Advance(bool setAside, long generation);

        /// <summary>
        /// The kinds set aside rejoin, past the jobs already passed: always when <paramref name="force"/>, else after an
        /// eviction (<paramref name="generation"/> changed), which unsettles them.
        /// </summary>
        void BringBackSetAside(bool force, long generation);
    }

    /// <summary>A tenant's one queue (policies that settle no kind): nothing is set aside.</summary>
    private struct OneQueue : ITenantQueue
    {
        private SortedSet<JobRecord>.Enumerator _jobs;
        private bool _more;

        public OneQueue(SortedSet<JobRecord> jobs)
        {
            _jobs = jobs.GetEnumerator();
            _more = _jobs.MoveNext();
        }

        public readonly JobRecord Next => _jobs.Current;

        public readonly bool HasNext => _more;

        public bool Advance(bool setAside, long generation) => _more = _jobs.MoveNext();

        public readonly void BringBackSetAside(bool force, long generation)
        {
        }
    }

    /// <summary>A tenant's queues, one per kind, merged in order; the settled kinds' set aside.</summary>
    private sealed class KindMerge : ITenantQueue
    {
        // The kind whose job is next is kept out of the heap: a tenant with one kind never touches the heap.
        private readonly PriorityQueue<KindCursor, JobRecord> _others = new(PendingOrder.Instance);
        private readonly List<KindCursor> _setAside = [];
        private KindCursor? _current;
        private long _setAsideGeneration;
        private JobRecord? _last;

        public KindMerge(IEnumerable<PendingKind> kinds)
        {
            foreach (var kind in kinds)
            {
                var cursor = new KindCursor(kind.Jobs!.GetEnumerator());
                if (cursor.MoveNext()) _others.Enqueue(cursor, cursor.Current);
            }
            _others.TryDequeue(out _current, out _);
        }

        public JobRecord Next => _current!.Current;

        public bool HasNext => _current is not null;

        public bool Advance(bool setAside, long generation)
        {
            var cursor = _current!;
            _last = cursor.Current;
            if (!cursor.MoveNext())
            {
                _others.TryDequeue(out _current, out _);
            }
            else if (setAside)
            {
                _setAside.Add(cursor);
                _setAsideGeneration = generation;
                _others.TryDequeue(out _current, out _);
            }
            else
            {
                _current = _others.EnqueueDequeue(cursor, cursor.Current);
            }
            return _current is not null;
        }

        public void BringBackSetAside(bool force, long generation)
        {
            if (_setAside.Count == 0 || (!force && generation == _setAsideGeneration)) return;
            foreach (var cursor in _setAside)
            {
                var left = true;
                while (left && PendingOrder.Instance.Compare(cursor.Current, _last) <= 0) left = cursor.MoveNext();
                if (left) _others.Enqueue(cursor, cursor.Current);
            }
            _setAside.Clear();
            if (_current is not null) _current = _others.EnqueueDequeue(_current, _current.Current);
            else _others.TryDequeue(out _current, out _);
        }
    }

    private sealed class KindCursor(SortedSet<JobRecord>.Enumerator jobs)
    {
        private SortedSet<JobRecord>.Enumerator _jobs = jobs;

        public JobRecord Current => _jobs.Current;

        public bool MoveNext() => _jobs.MoveNext();
    }
}
