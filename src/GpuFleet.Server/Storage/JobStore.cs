using System.Data.Common;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Storage;

/// <summary>
/// Jobs in SQLite (an embedded file in WAL mode) or PostgreSQL, chosen by the database named. Every
/// write is a transaction committed before the caller answers: a job that got its 201 is on disk.
/// State changes are compare-and-set on the current state (<c>UPDATE … WHERE state = @from</c>),
/// checked against <see cref="JobTransitions"/>, and recorded in the job's history. Submissions and
/// cancellations also land in the scheduler's inbox, which the leading replica reads each cycle, so
/// any replica may take them. Schema migrations run on open, in order, once each.
/// </summary>
public sealed class JobStore : IDisposable
{
    private readonly DbDataSource _source;
    private readonly GroupCommit _writes;
    // One delegate for the store's life: the group commit runs queued writes of the same delegate together.
    private readonly Func<DbConnection, DbTransaction, IReadOnlyList<PendingSubmit>, Task<IReadOnlyList<(StoredJob?, SubmitOutcome)>>> _submitAll;

    private sealed record PendingSubmit(NewJob Job, IdempotencyKey? Key, DateTimeOffset At, Security.AuditEntry? Audit);

    private const string InsertJobSql = """
        INSERT INTO jobs (name, tenant, gpus, models, time_limit_seconds, priority, priority_class, command, runtime_seconds, state, submitted_at,
            topology, required_site, data_site, data_gb, checkpoint_seconds, cpus_per_gpu, memory_gb_per_gpu, slice)
        VALUES (@name, @tenant, @gpus, @models, @limit, @priority, @class, @command, @runtime, 'Pending', @at,
            @topology, @site, @dataSite, @dataGb, @checkpoint, @cpus, @memory, @slice)
        """;

    // One job's change, re-run per change on SQLite; PostgreSQL moves a whole slice in one set-based statement.
    private const string UpdateJobSql = """
        UPDATE jobs SET state = @to, detail = CAST(@detail AS TEXT),
            placement = CASE WHEN @to = 'Running' THEN CAST(@placement AS TEXT) ELSE placement END,
            site = CASE WHEN @to = 'Running' THEN CAST(@site AS TEXT) ELSE site END,
            model = CASE WHEN @to = 'Running' THEN CAST(@model AS TEXT) ELSE model END,
            slices = CASE WHEN @to = 'Running' THEN CAST(@slices AS TEXT) ELSE slices END
        WHERE id = @id AND state = @from
        """;

    /// <summary>
    /// Opens (and creates or migrates) the database: an SQLite file path or a PostgreSQL connection string
    /// or URI. <paramref name="leaseTime"/> is how long the scheduler lease lasts without renewal (default
    /// <see cref="DefaultLeaseTime"/>); a transaction left idle that long is ended where the database can.
    /// </summary>
    public JobStore(string database, TimeSpan? leaseTime = null)
    {
        Database = database;
        LeaseTime = leaseTime ?? DefaultLeaseTime;
        if (LeaseTime < TimeSpan.FromSeconds(1)) throw new ArgumentOutOfRangeException(nameof(leaseTime), "the lease must last at least a second");
        Dialect = StoreDialect.For(database);
        _source = Dialect.CreateDataSource(database, LeaseTime);
        _writes = new GroupCommit(OpenAsync, turns: 2, ownThread: Dialect.SingleWriter, Dialect.Recover);
        _submitAll = SubmitAll;
        Migrate();
    }

    /// <summary>The database as given.</summary>
    public string Database { get; }

    /// <summary>How long a scheduler lease lasts unless renewed, unless the process or session that holds it is seen to end first.</summary>
    public static readonly TimeSpan DefaultLeaseTime = TimeSpan.FromSeconds(10);

    /// <summary>How long this store's scheduler leases last without renewal.</summary>
    public TimeSpan LeaseTime { get; }

    /// <summary>The database's dialect.</summary>
    public StoreDialect Dialect { get; }

    /// <summary>Schema version after migrations.</summary>
    public int SchemaVersion => Dialect.Migrations.Count;

    private void Migrate()
    {
        using var c = Open();
        while (true)
        {
            using var t = c.BeginTransaction();
            if (Dialect.MigrationLock.Length > 0) Exec(c, t, Dialect.MigrationLock);
            Exec(c, t, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
            var version = Convert.ToInt32(Scalar(c, t, "SELECT COALESCE(MAX(version), 0) FROM schema_version;"));
            if (version >= Dialect.Migrations.Count) return;
            Exec(c, t, Dialect.Migrations[version]);
            Exec(c, t, "INSERT INTO schema_version(version) VALUES (@v);", ("@v", version + 1));
            t.Commit();
        }
    }

    /// <summary>
    /// Stores a new pending job; or, when <paramref name="key"/> was used before for the same request,
    /// answers the job stored the first time (<see cref="SubmitOutcome.Replayed"/>); or, when it was used
    /// for another request, stores nothing and answers no job (<see cref="SubmitOutcome.KeyReused"/>).
    /// Group-committed with concurrent submissions; <paramref name="audit"/>, when given, is written in
    /// the same transaction unless the key was reused (nothing changed then).
    /// </summary>
    public Task<(StoredJob? Job, SubmitOutcome Outcome)> SubmitAsync(NewJob job, IdempotencyKey? key, DateTimeOffset now, Security.AuditEntry? audit = null) =>
        _writes.RunGroupedAsync(new PendingSubmit(job, key, now, audit), _submitAll);

    private async Task<IReadOnlyList<(StoredJob?, SubmitOutcome)>> SubmitAll(DbConnection c, DbTransaction t, IReadOnlyList<PendingSubmit> items)
    {
        var results = new (StoredJob?, SubmitOutcome)[items.Count];
        var fresh = new List<int>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Key is null) fresh.Add(i);
            else results[i] = await SubmitKeyedAsync(c, t, items[i]);
        }
        // Audited: every submission but one whose key was used for another request (fresh ones are stored).
        var audits = items.Where((item, i) => item.Audit is not null && (item.Key is null || results[i].Item2 != SubmitOutcome.KeyReused))
            .Select(item => item.Audit!).ToList();
        var ids = await InsertJobsAsync(c, t, [.. fresh.Select(i => (items[i].Job, items[i].At))], audits);
        // A new job is exactly what was inserted: no need to read it back.
        for (var k = 0; k < fresh.Count; k++) results[fresh[k]] = (Fresh(ids[k], items[fresh[k]].Job, items[fresh[k]].At), SubmitOutcome.Stored);
        return results;
    }

    private async Task<(StoredJob?, SubmitOutcome)> SubmitKeyedAsync(DbConnection c, DbTransaction t, PendingSubmit item)
    {
        var (job, key, at) = (item.Job, item.Key!, item.At);
        if (!await ClaimKeyAsync(c, t, key))
        {
            var (first, hash, batch) = await ReadKeyAsync(c, t, key);
            // A key stored before keys were bound to their requests has no hash: it is taken for the same request, as it was then.
            return batch is not null || (hash is not null && hash != key.RequestHash) ? (null, SubmitOutcome.KeyReused) : (await GetAsync(c, t, first, default), SubmitOutcome.Replayed);
        }
        var id = (await InsertJobsAsync(c, t, [(job, at)], []))[0];
        await ExecAsync(c, t, "UPDATE idempotency SET job_id = @id WHERE tenant = @t AND key = @k;", ("@id", id), ("@t", key.Scope), ("@k", key.Key));
        return (Fresh(id, job, at), SubmitOutcome.Stored);
    }

    // Claims the key for this transaction; false when it was claimed before. A concurrent claim (on
    // another replica) waits here for ours to commit, then sees it.
    private static async Task<bool> ClaimKeyAsync(DbConnection c, DbTransaction t, IdempotencyKey key) =>
        await ExecAsync(c, t, "INSERT INTO idempotency (tenant, key, job_id, request_hash) VALUES (@t, @k, 0, @h) ON CONFLICT DO NOTHING;",
            ("@t", key.Scope), ("@k", key.Key), ("@h", key.RequestHash)) > 0;

    // The first use of a key: its job (one job's submission), its request's hash, and its batch's job ids (a batch's).
    private static async Task<(long JobId, string? Hash, string? BatchIds)> ReadKeyAsync(DbConnection c, DbTransaction t, IdempotencyKey key)
    {
        await using var cmd = Command(c, t, "SELECT job_id, request_hash, job_ids FROM idempotency WHERE tenant = @t AND key = @k;", ("@t", key.Scope), ("@k", key.Key));
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2));
    }

    private static StoredJob Fresh(long id, NewJob job, DateTimeOffset at) =>
        new(id, job, JobState.Pending, DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()), null, null);

    /// <summary>
    /// Stores many new pending jobs in one transaction: all of them or none (trace replay, batch
    /// submission). With <paramref name="key"/> the batch is one request: a retry answers the jobs
    /// stored the first time, another request under the same key nothing (<see cref="SubmitOutcome"/>).
    /// <paramref name="audit"/>, when given, is written in the same transaction unless the key was reused.
    /// </summary>
    public Task<(IReadOnlyList<StoredJob> Jobs, SubmitOutcome Outcome)> SubmitManyAsync(IReadOnlyList<NewJob> jobs, DateTimeOffset now,
        IdempotencyKey? key = null, Security.AuditEntry? audit = null) =>
        _writes.RunAsync<(IReadOnlyList<StoredJob>, SubmitOutcome)>(async (c, t) =>
        {
            var outcome = SubmitOutcome.Stored;
            IReadOnlyList<StoredJob> stored;
            if (key is not null && !await ClaimKeyAsync(c, t, key))
            {
                var (_, hash, batch) = await ReadKeyAsync(c, t, key);
                if (batch is null || hash != key.RequestHash) return ([], SubmitOutcome.KeyReused);
                stored = await GetManyAsync(c, t, [.. batch.Split(',').Select(long.Parse)]);
                outcome = SubmitOutcome.Replayed;
                if (audit is not null) await AuditRows.InsertAsync(c, t, Dialect.BatchesRoundTrips, [audit]);
            }
            else
            {
                var ids = await InsertJobsAsync(c, t, [.. jobs.Select(j => (j, now))], audit is null ? [] : [audit]);
                if (key is not null)
                    await ExecAsync(c, t, "UPDATE idempotency SET job_ids = @ids WHERE tenant = @t AND key = @k;", ("@ids", string.Join(',', ids)), ("@t", key.Scope), ("@k", key.Key));
                stored = [.. jobs.Select((j, k) => Fresh(ids[k], j, now))];
            }
            return (stored, outcome);
        });

    // Jobs by id, in the order asked.
    private static async Task<List<StoredJob>> GetManyAsync(DbConnection c, DbTransaction t, IReadOnlyList<long> ids)
    {
        var byId = new Dictionary<long, StoredJob>();
        foreach (var chunk in ids.Chunk(MaxListed))
        {
            await using var cmd = ListedCommand(c, t, "SELECT * FROM jobs WHERE id IN ({0});", chunk);
            foreach (var job in await ReadAsync(cmd, default)) byId[job.Id] = job;
        }
        return [.. ids.Select(id => byId[id])];
    }

    // Each job with its first event and its inbox entry, and the audit entries; answers the new ids in order.
    private async Task<long[]> InsertJobsAsync(DbConnection c, DbTransaction t, IReadOnlyList<(NewJob Job, DateTimeOffset At)> jobs, IReadOnlyList<Security.AuditEntry> audits)
    {
        if (jobs.Count == 0 || !Dialect.BatchesRoundTrips)
        {
            var inserted = await InsertJobsOneByOneAsync(c, t, jobs);
            await AuditRows.InsertAsync(c, t, Dialect.BatchesRoundTrips, audits);
            return inserted;
        }
        // One set-based statement for the group: the jobs as arrays, inserted in their order. Identity
        // values are drawn as the rows are inserted, so the k-th lowest new id is the k-th job's.
        var ids = await ArrayStatement.ScalarsAsync(c, t, $"""
            WITH r AS (SELECT * FROM unnest(@name, @tenant, @gpus, @models, @limit, @priority, @class, @command, @runtime, @at,
                                            @topology, @site, @dataSite, @dataGb, @checkpoint, @cpus, @memory, @slice) WITH ORDINALITY
                       AS r(name, tenant, gpus, models, lim, priority, cls, command, runtime, at, topology, site, data_site, data_gb, checkpoint,
                            cpus, memory, slice, n)),
                 j AS (INSERT INTO jobs (name, tenant, gpus, models, time_limit_seconds, priority, priority_class, command, runtime_seconds, state,
                           submitted_at, topology, required_site, data_site, data_gb, checkpoint_seconds, cpus_per_gpu, memory_gb_per_gpu, slice)
                       SELECT name, tenant, gpus, models, lim, priority, cls, command, runtime, 'Pending', at, topology, site, data_site, data_gb, checkpoint,
                           cpus, memory, slice
                       FROM r ORDER BY n
                       RETURNING id, submitted_at),
                 e AS (INSERT INTO job_events (job_id, at, state, detail) SELECT id, submitted_at, 'Pending', 'submitted' FROM j ORDER BY id),
                 i AS (INSERT INTO scheduler_inbox (job_id, kind) SELECT id, 'Submitted' FROM j ORDER BY id),
                 a AS ({AuditRows.ArrayInsertSql})
            SELECT id FROM j ORDER BY id;
            """,
            [("@name", jobs.Select(x => x.Job.Name).ToArray()), ("@tenant", jobs.Select(x => x.Job.Tenant).ToArray()),
            ("@gpus", jobs.Select(x => x.Job.Gpus).ToArray()), ("@models", jobs.Select(x => string.Join('|', x.Job.Models)).ToArray()),
            ("@limit", jobs.Select(x => x.Job.TimeLimitSeconds).ToArray()), ("@priority", jobs.Select(x => x.Job.Priority).ToArray()),
            ("@class", jobs.Select(x => x.Job.PriorityClass).ToArray()), ("@command", jobs.Select(x => x.Job.Command).ToArray()),
            ("@runtime", jobs.Select(x => x.Job.RuntimeSeconds).ToArray()), ("@at", jobs.Select(x => x.At.ToUnixTimeMilliseconds()).ToArray()),
            ("@topology", jobs.Select(x => JobFieldRules.TopologyName(x.Job.Topology)).ToArray()), ("@site", jobs.Select(x => x.Job.Site).ToArray()),
            ("@dataSite", jobs.Select(x => x.Job.DataSite).ToArray()), ("@dataGb", jobs.Select(x => x.Job.DataGb).ToArray()),
            ("@checkpoint", jobs.Select(x => x.Job.CheckpointSeconds).ToArray()),
            ("@cpus", jobs.Select(x => x.Job.CpusPerGpu).ToArray()), ("@memory", jobs.Select(x => x.Job.MemoryGbPerGpu).ToArray()),
            ("@slice", jobs.Select(x => SliceColumn(x.Job.Slice)).ToArray()), .. AuditRows.ArrayArguments(audits)]);
        if (ids.Length != jobs.Count) throw new InvalidOperationException($"inserted {ids.Length} jobs of {jobs.Count}");
        return ids;
    }

    // InsertJobsAsync where each statement is re-run per row (SQLite, in process), or for no jobs.
    private static async Task<long[]> InsertJobsOneByOneAsync(DbConnection c, DbTransaction t, IReadOnlyList<(NewJob Job, DateTimeOffset At)> jobs)
    {
        if (jobs.Count == 0) return [];
        var rows = jobs.Select(x => new (string, object?)[]
        {
            ("@name", x.Job.Name), ("@tenant", x.Job.Tenant), ("@gpus", x.Job.Gpus), ("@models", string.Join('|', x.Job.Models)),
            ("@limit", x.Job.TimeLimitSeconds), ("@priority", x.Job.Priority), ("@class", x.Job.PriorityClass), ("@command", x.Job.Command),
            ("@runtime", x.Job.RuntimeSeconds), ("@at", x.At.ToUnixTimeMilliseconds()),
            ("@topology", JobFieldRules.TopologyName(x.Job.Topology)), ("@site", x.Job.Site), ("@dataSite", x.Job.DataSite),
            ("@dataGb", x.Job.DataGb), ("@checkpoint", x.Job.CheckpointSeconds),
            ("@cpus", x.Job.CpusPerGpu), ("@memory", x.Job.MemoryGbPerGpu), ("@slice", SliceColumn(x.Job.Slice)),
        }).ToList();
        var inserted = await RepeatedStatement.RunAsync(c, t, batch: false, InsertJobSql + " RETURNING id;", rows, scalar: true);
        await RepeatedStatement.RunAsync(c, t, batch: false, """
            INSERT INTO job_events (job_id, at, state, detail) VALUES (@id, @at, 'Pending', 'submitted');
            INSERT INTO scheduler_inbox (job_id, kind) VALUES (@id, 'Submitted');
            """, [.. inserted.Select((id, k) => new (string, object?)[] { ("@id", id), ("@at", jobs[k].At.ToUnixTimeMilliseconds()) })], scalar: false);
        return inserted;
    }

    /// <summary>The job, or null.</summary>
    public async Task<StoredJob?> GetAsync(long id, CancellationToken cancel = default)
    {
        await using var c = await OpenAsync(cancel);
        return await GetAsync(c, null, id, cancel);
    }

    /// <summary>Jobs by id, optionally of one tenant and state, after an id (paging), at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<StoredJob>> ListAsync(string? tenant, JobState? state, long afterId, int limit, CancellationToken cancel = default)
    {
        await using var c = await OpenAsync(cancel);
        await using var cmd = Command(c, null, state is JobState.Pending or JobState.Running ? ListActiveSql : ListSql,
            ("@after", afterId), ("@tenant", tenant), ("@state", state?.ToString()), ("@limit", limit));
        return await ReadAsync(cmd, cancel);
    }

    private const string ListSql = """
        SELECT * FROM jobs WHERE id > @after AND (CAST(@tenant AS TEXT) IS NULL OR tenant = @tenant) AND (CAST(@state AS TEXT) IS NULL OR state = @state)
        ORDER BY id LIMIT @limit;
        """;

    // A pending or running job is found through the index of active jobs (no index holds the state): a
    // statement of its own, so that a prepared plan for it can use that index.
    private const string ListActiveSql = """
        SELECT * FROM jobs WHERE id > @after AND (CAST(@tenant AS TEXT) IS NULL OR tenant = @tenant) AND state = @state AND active
        ORDER BY id LIMIT @limit;
        """;

    /// <summary>Jobs that are pending or running: what a new leader must take up again.</summary>
    public IReadOnlyList<StoredJob> Active()
    {
        using var c = Open();
        using var cmd = Command(c, null, "SELECT * FROM jobs WHERE active ORDER BY id;");
        return Read(cmd);
    }

    /// <summary>The job's state history, oldest first.</summary>
    public async Task<IReadOnlyList<JobEvent>> HistoryAsync(long id, CancellationToken cancel = default)
    {
        await using var c = await OpenAsync(cancel);
        await using var cmd = Command(c, null, $"SELECT at, state, detail FROM job_events WHERE job_id = @id ORDER BY {Dialect.EventOrder};", ("@id", id));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<JobEvent>();
        while (await r.ReadAsync(cancel))
            list.Add(new JobEvent(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), Enum.Parse<JobState>(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2)));
        return list;
    }

    /// <summary>
    /// Moves a job from <paramref name="from"/> to <paramref name="to"/> if it is still in <paramref name="from"/>;
    /// false when it is not (another writer moved it first). Disallowed moves throw. Waits for its commit
    /// on the calling thread, as the scheduling loop's writes do: the request path uses <see cref="TransitionAsync"/>.
    /// </summary>
    public bool Transition(long id, JobState from, JobState to, DateTimeOffset at, string? detail) =>
        TransitionMany([new StateChange(id, from, to, detail)], at)[0];

    /// <summary>
    /// <see cref="Transition(long, JobState, JobState, DateTimeOffset, string?)"/> for a call that changes a job
    /// (a cancellation): when the change applies, <paramref name="audit"/> is committed in the same transaction.
    /// </summary>
    /// <remarks>Not cancellable: once queued, the change commits or rolls back with its group, and its audit entry with it.</remarks>
    public Task<bool> TransitionAsync(long id, JobState from, JobState to, DateTimeOffset at, string? detail, Security.AuditEntry audit)
    {
        ThrowIfNotAllowed([new StateChange(id, from, to, detail)]);
        return _writes.RunAsync(async (c, t) =>
        {
            var applied = (await TransitionAllAsync(c, t, [new StateChange(id, from, to, detail)], at))[0];
            if (applied) await AuditRows.InsertAsync(c, t, Dialect.BatchesRoundTrips, [audit]);
            return applied;
        });
    }

    /// <summary>
    /// Applies several checked state changes; for each, whether it applied. With <paramref name="epoch"/>
    /// (the scheduler's writes) each transaction first checks that no other replica has led since, and
    /// throws <see cref="LeaseLostException"/> otherwise. A cancellation also goes to the scheduler's inbox.
    /// </summary>
    /// <remarks>
    /// Changes are independent (each is its own compare-and-set), so a large cycle is written in
    /// transactions of <see cref="TransitionsPerTransaction"/>: on SQLite, where writers take turns,
    /// submissions then wait for one slice rather than for a whole cycle's placements. On PostgreSQL the
    /// scheduler writes on its own connection, beside the submissions' group commit.
    /// </remarks>
    public bool[] TransitionMany(IReadOnlyList<StateChange> changes, DateTimeOffset at, long? epoch = null)
    {
        ThrowIfNotAllowed(changes);
        var applied = new bool[changes.Count];
        for (var from = 0; from < changes.Count; from += TransitionsPerTransaction)
        {
            var first = from;
            var count = Math.Min(TransitionsPerTransaction, changes.Count - from);
            async Task<bool> Write(DbConnection c, DbTransaction t)
            {
                if (epoch is { } mine) await CheckLeaseAsync(c, t, mine);
                var done = await TransitionAllAsync(c, t, [.. changes.Skip(first).Take(count)], at);
                Array.Copy(done, 0, applied, first, count);
                return true;
            }
            if (epoch is null) Wait(_writes.RunAsync(Write));
            else SchedulerWrite(Write);
        }
        return applied;
    }

    private static void ThrowIfNotAllowed(IReadOnlyList<StateChange> changes)
    {
        foreach (var ch in changes)
            if (!JobTransitions.Allowed(ch.From, ch.To)) throw new InvalidOperationException($"job {ch.Id}: {ch.From} -> {ch.To} is not allowed");
    }

    // The scheduler's own writes: in the group commit where writers take turns (SQLite); on a
    // connection of their own where they need not (PostgreSQL), beside the submissions' group commit.
    private T SchedulerWrite<T>(Func<DbConnection, DbTransaction, Task<T>> write) =>
        Wait(Dialect.SingleWriter ? _writes.RunAsync(write) : _writes.RunAloneAsync(write));

    // The scheduling loop's synchronous methods wait for their writes here, on the loop's own thread
    // (never a thread-pool thread of the request path, which only ever awaits).
    private static T Wait<T>(Task<T> write) => write.GetAwaiter().GetResult();

    /// <summary>Most state changes written in one transaction.</summary>
    /// <remarks>
    /// A submission that queues behind a slice waits for it, so smaller slices cut the API's tail, and
    /// larger ones cost a log sync per slice less. bench api (SQLite, 64 clients, 3 runs each): 32 →
    /// p99 41-47 ms, 64 → 38-47 ms, 128 → 43-52 ms, at the same rate within the noise.
    /// </remarks>
    public const int TransitionsPerTransaction = 64;

    // Every fenced write renews the lease it is fenced by: a leader busy with a long cycle writes, and
    // so keeps its lease, between the renewals at the start of each cycle. The update also locks the
    // lease row until this write commits (on PostgreSQL), so a new leader's epoch bump waits for it and
    // no write of an old leader lands after it.
    private async Task<bool> TryRenewAsync(DbConnection c, DbTransaction t, long mine) =>
        await ExecAsync(c, t, $"UPDATE scheduler_lease SET expires_at = {Dialect.NowMillis} + @ttl WHERE id = 1 AND epoch = @e;",
            ("@ttl", (long)LeaseTime.TotalMilliseconds), ("@e", mine)) == 1;

    private async Task CheckLeaseAsync(DbConnection c, DbTransaction t, long mine)
    {
        if (await TryRenewAsync(c, t, mine)) return;
        throw new LeaseLostException(mine, Convert.ToInt64(await ScalarAsync(c, t, "SELECT epoch FROM scheduler_lease WHERE id = 1;")));
    }

    private async Task<bool[]> TransitionAllAsync(DbConnection c, DbTransaction t, IReadOnlyList<StateChange> changes, DateTimeOffset at)
    {
        if (Dialect.BatchesRoundTrips)
        {
            // One statement for the lot: the changes as arrays, joined to the jobs they move.
            var arguments = new (string, object?)[]
            {
                ("@ids", changes.Select(ch => ch.Id).ToArray()), ("@froms", changes.Select(ch => ch.From.ToString()).ToArray()),
                ("@tos", changes.Select(ch => ch.To.ToString()).ToArray()), ("@details", changes.Select(ch => ch.Detail).ToArray()),
                ("@placements", changes.Select(ch => ch.Placement).ToArray()), ("@sites", changes.Select(ch => ch.Site).ToArray()),
                ("@models", changes.Select(ch => ch.Model).ToArray()), ("@ats", changes.Select(ch => (ch.At ?? at).ToUnixTimeMilliseconds()).ToArray()),
                ("@slicesList", changes.Select(ch => ch.Slices).ToArray()),
            };
            var applied = new bool[changes.Count];
            var moves = await ArrayStatement.ScalarsAsync(c, t, """
                WITH ch AS (SELECT * FROM unnest(@ids, @froms, @tos, @details, @placements, @sites, @models, @ats, @slicesList) WITH ORDINALITY
                            AS ch(id, from_state, to_state, detail, placement, site, model, at, slices, n)),
                     u AS (UPDATE jobs j SET state = ch.to_state, detail = ch.detail,
                               placement = CASE WHEN ch.to_state = 'Running' THEN ch.placement ELSE j.placement END,
                               site = CASE WHEN ch.to_state = 'Running' THEN ch.site ELSE j.site END,
                               model = CASE WHEN ch.to_state = 'Running' THEN ch.model ELSE j.model END,
                               slices = CASE WHEN ch.to_state = 'Running' THEN ch.slices ELSE j.slices END
                           FROM ch WHERE j.id = ch.id AND j.state = ch.from_state
                           RETURNING j.id, ch.to_state, ch.detail, ch.at, ch.n),
                     e AS (INSERT INTO job_events (job_id, at, state, detail) SELECT id, at, to_state, detail FROM u),
                     i AS (INSERT INTO scheduler_inbox (job_id, kind) SELECT id, 'Cancelled' FROM u WHERE to_state = 'Cancelled')
                SELECT n FROM u;
                """, arguments);
            foreach (var n in moves) applied[n - 1] = true;   // ordinality counts from 1
            return applied;
        }
        var rows = changes.Select(ch => new (string, object?)[]
        {
            ("@to", ch.To.ToString()), ("@detail", ch.Detail), ("@placement", ch.Placement), ("@site", ch.Site), ("@model", ch.Model),
            ("@slices", ch.Slices), ("@id", ch.Id), ("@from", ch.From.ToString()), ("@at", (ch.At ?? at).ToUnixTimeMilliseconds()),
        }).ToList();
        var changed = await RepeatedStatement.RunAsync(c, t, batch: false, UpdateJobSql + ";", rows, scalar: false);
        var done = changed.Select(n => n > 0).ToArray();
        var moved = Enumerable.Range(0, changes.Count).Where(i => done[i]).ToList();
        await RepeatedStatement.RunAsync(c, t, batch: false, "INSERT INTO job_events (job_id, at, state, detail) VALUES (@id, @at, @to, @detail);",
            [.. moved.Select(i => rows[i])], scalar: false);
        await RepeatedStatement.RunAsync(c, t, batch: false, "INSERT INTO scheduler_inbox (job_id, kind) VALUES (@id, 'Cancelled');",
            [.. moved.Where(i => changes[i].To == JobState.Cancelled).Select(i => new (string, object?)[] { ("@id", changes[i].Id) })], scalar: false);
        return done;
    }

    /// <summary>
    /// Takes the scheduler lease for <paramref name="holder"/> if it is free: never taken, released,
    /// expired, or held by a replica whose process or session is seen to have ended. Bumps the epoch
    /// (from then on, writes fenced with an older epoch fail) and answers it; null when another
    /// replica holds the lease or took it first.
    /// </summary>
    public long? TryTakeLease(string holder, ReplicaSession session, DateTimeOffset at)
    {
        var seen = Lease();
        if (seen.Running && seen.Holder != holder && (seen.Liveness is null || IsAlive(seen.Liveness))) return null;
        // Compare-and-set on the epoch seen: of two standbys that saw the same dead leader, one wins.
        return SchedulerWrite<long?>(async (c, t) => await ScalarAsync(c, t, $"""
            UPDATE scheduler_lease SET epoch = epoch + 1, holder = @h, acquired_at = @at, expires_at = {Dialect.NowMillis} + @ttl, liveness = @l
            WHERE id = 1 AND epoch = @seen RETURNING epoch;
            """, ("@h", holder), ("@at", at.ToUnixTimeMilliseconds()), ("@ttl", (long)LeaseTime.TotalMilliseconds), ("@l", session.Liveness),
            ("@seen", seen.Epoch)) is { } epoch ? Convert.ToInt64(epoch) : null);
    }

    private bool IsAlive(string liveness)
    {
        using var c = Open();
        return Dialect.IsAlive(c, liveness);
    }

    /// <summary>Extends the lease of epoch <paramref name="epoch"/> by <see cref="LeaseTime"/> from now; false when another replica has taken it since.</summary>
    public bool RenewLease(long epoch) => SchedulerWrite((c, t) => TryRenewAsync(c, t, epoch));

    /// <summary>Gives up the lease of epoch <paramref name="epoch"/> (a replica shutting down), so that a standby need not wait for it to expire.</summary>
    public void ReleaseLease(long epoch) =>
        SchedulerWrite((c, t) => ExecAsync(c, t, "UPDATE scheduler_lease SET expires_at = NULL WHERE id = 1 AND epoch = @e;", ("@e", epoch)));

    /// <summary>The lease as stored now, with the database's clock.</summary>
    public LeaseState Lease()
    {
        using var c = Open();
        using var cmd = Command(c, null, LeaseSql);
        using var r = cmd.ExecuteReader();
        r.Read();
        return ReadLease(r);
    }

    /// <summary><see cref="Lease"/>, for the request path.</summary>
    public async Task<LeaseState> LeaseAsync(CancellationToken cancel = default)
    {
        await using var c = await OpenAsync(cancel);
        await using var cmd = Command(c, null, LeaseSql);
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        await r.ReadAsync(cancel);
        return ReadLease(r);
    }

    private string LeaseSql => $"SELECT epoch, holder, acquired_at, expires_at, liveness, leader_url, {Dialect.NowMillis} FROM scheduler_lease WHERE id = 1;";

    private static LeaseState ReadLease(DbDataReader r)
    {
        DateTimeOffset? Time(int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
        return new LeaseState(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), Time(2), Time(3), r.IsDBNull(4) ? null : r.GetString(4),
            r.IsDBNull(5) ? null : r.GetString(5), Time(6)!.Value);
    }

    /// <summary>Stores the leader's view of queues and sites (JSON) and its API's address, for replicas that do not schedule.</summary>
    public void PublishSnapshot(string json, DateTimeOffset at, long epoch, string? url) =>
        SchedulerWrite(async (c, t) =>
        {
            await CheckLeaseAsync(c, t, epoch);
            return await ExecAsync(c, t, "UPDATE scheduler_lease SET snapshot = @s, snapshot_at = @at, leader_url = @u WHERE id = 1;",
                ("@s", json), ("@at", at.ToUnixTimeMilliseconds()), ("@u", url));
        });

    /// <summary>The leader's latest published view, or null before any.</summary>
    public async Task<(string Json, DateTimeOffset At)?> SnapshotAsync(CancellationToken cancel = default)
    {
        await using var c = await OpenAsync(cancel);
        await using var cmd = Command(c, null, "SELECT snapshot, snapshot_at FROM scheduler_lease WHERE id = 1;");
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        return await r.ReadAsync(cancel) && !r.IsDBNull(0) ? (r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))) : null;
    }

    /// <summary>The oldest inbox entries (at most <paramref name="limit"/>), with their jobs as stored now.</summary>
    public IReadOnlyList<InboxEntry> ReadInbox(int limit)
    {
        using var c = Open();
        using var cmd = Command(c, null, "SELECT i.seq AS inbox_seq, i.kind AS inbox_kind, j.* FROM scheduler_inbox i JOIN jobs j ON j.id = i.job_id ORDER BY i.seq LIMIT @n;", ("@n", limit));
        using var r = cmd.ExecuteReader();
        var list = new List<InboxEntry>();
        while (r.Read()) list.Add(new InboxEntry(r.GetInt64(0), Enum.Parse<InboxKind>(r.GetString(1)), ReadJob(r)));
        return list;
    }

    /// <summary>
    /// Removes inbox entries the scheduler of epoch <paramref name="epoch"/> has taken up; throws
    /// <see cref="LeaseLostException"/> (and removes nothing) when another replica has led since, whose
    /// scheduler has not taken them up. By their numbers, not "up to": on PostgreSQL an entry with a
    /// lower number may commit after a higher one was read.
    /// </summary>
    public void ClearInbox(IReadOnlyList<long> seqs, long epoch)
    {
        if (seqs.Count == 0) return;
        SchedulerWrite(async (c, t) =>
        {
            await CheckLeaseAsync(c, t, epoch);
            foreach (var chunk in seqs.Chunk(MaxListed))
            {
                await using var cmd = ListedCommand(c, t, "DELETE FROM scheduler_inbox WHERE seq IN ({0});", chunk);
                await cmd.ExecuteNonQueryAsync();
            }
            return 0;
        });
    }

    /// <summary>
    /// Every stretch of time a job held GPUs that overlaps [<paramref name="from"/>, <paramref name="to"/>),
    /// as <see cref="ChargedTime"/> counts it (while a job still runs, up to <paramref name="now"/>: nothing is
    /// charged for time that has not passed), with the site and model of its latest placement.
    /// </summary>
    public async Task<IReadOnlyList<RunInterval>> RunIntervalsAsync(DateTimeOffset from, DateTimeOffset to, string? tenant, DateTimeOffset now, CancellationToken cancel = default)
    {
        await using var c = await OpenAsync(cancel);
        var order = Dialect.EventOrder;
        // Every event of each job that ran before the period's end, a job's events together and in order.
        await using var cmd = Command(c, null, $"""
            SELECT j.id, j.tenant, j.gpus, j.site, j.model, e.at, e.state, j.slices
            FROM job_events e JOIN jobs j ON j.id = e.job_id
            WHERE e.job_id IN (SELECT r.job_id FROM job_events r WHERE r.state = 'Running' AND r.at < @to)
              AND (CAST(@tenant AS TEXT) IS NULL OR j.tenant = @tenant)
            ORDER BY e.job_id, e.{order};
            """, ("@tenant", tenant), ("@to", to.ToUnixTimeMilliseconds()));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<RunInterval>();
        var events = new List<(DateTimeOffset, JobState)>();
        long? job = null;
        RunInterval? shape = null;
        void Close()
        {
            if (shape is null) return;
            foreach (var (start, end) in ChargedTime.Stretches(events, from, to, now)) list.Add(shape with { Seconds = (end - start).TotalSeconds });
            events.Clear();
        }
        while (await r.ReadAsync(cancel))
        {
            var id = r.GetInt64(0);
            if (id != job)
            {
                Close();
                job = id;
                // A job of GPU slices is charged its slices' shares of compute, not the GPUs they are on.
                var slices = PlacedSlice.Parse(id, r.IsDBNull(7) ? null : r.GetString(7));
                shape = new RunInterval(r.GetString(1), StoredJob.GpuEquivalentsOf(r.GetInt32(2), slices), r.IsDBNull(3) ? "" : r.GetString(3), r.IsDBNull(4) ? "" : r.GetString(4), 0);
            }
            events.Add((DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), Enum.Parse<JobState>(r.GetString(6))));
        }
        Close();
        return list;
    }

    /// <summary>
    /// Records when clusters started runs, as a <c>Running</c> event after the placement at the cluster's
    /// time, from which <see cref="ChargedTime"/> charges. Only for a job still running whose latest event
    /// is its placement: a start is recorded once per run, also when a new leader hears it again.
    /// </summary>
    public void RecordStarts(IReadOnlyList<ClusterStart> starts, long epoch)
    {
        if (starts.Count == 0) return;
        var order = Dialect.EventOrder;
        SchedulerWrite(async (c, t) =>
        {
            await CheckLeaseAsync(c, t, epoch);
            await RepeatedStatement.RunAsync(c, t, batch: false, $"""
                INSERT INTO job_events (job_id, at, state, detail)
                SELECT j.id, @at, 'Running', CAST(@detail AS TEXT) FROM jobs j
                WHERE j.id = @id AND j.state = 'Running'
                  AND (SELECT l.detail FROM job_events l WHERE l.job_id = j.id ORDER BY l.{order} DESC LIMIT 1) LIKE '{PlacedPrefix}%';
                """, [.. starts.Select(s => new (string, object?)[] { ("@id", s.JobId), ("@at", s.At.ToUnixTimeMilliseconds()), ("@detail", s.Detail) })], scalar: false);
            return true;
        });
    }

    /// <summary>When each of <paramref name="ids"/> last changed (its latest event), in one read; jobs without events are left out.</summary>
    public async Task<IReadOnlyDictionary<long, DateTimeOffset>> LastChangesAsync(IReadOnlyList<long> ids, CancellationToken cancel = default)
    {
        var found = new Dictionary<long, DateTimeOffset>();
        if (ids.Count == 0) return found;
        await using var c = await OpenAsync(cancel);
        foreach (var chunk in ids.Chunk(MaxListed))
        {
            await using var cmd = ListedCommand(c, null, "SELECT job_id, MAX(at) FROM job_events WHERE job_id IN ({0}) GROUP BY job_id;", chunk);
            await using var r = await cmd.ExecuteReaderAsync(cancel);
            while (await r.ReadAsync(cancel)) found[r.GetInt64(0)] = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1));
        }
        return found;
    }

    /// <summary>
    /// Makes the next job id of a store with no jobs yet one that no earlier store on this machine gave:
    /// above the current time in microseconds. Clusters name GpuFleet's runs <c>gpufleet-&lt;id&gt;</c> and
    /// remember finished ones (Slurm lists them for minutes and keeps them in its completion log), so a
    /// throwaway store that drives a real cluster (a benchmark, a test) must not start again at 1.
    /// </summary>
    public void StartJobIdsAboveNow(DateTimeOffset now)
    {
        using var c = Open();
        Exec(c, null, Dialect.StartJobIdsAboveSql, ("@floor", now.ToUnixTimeMilliseconds() * 1000));
    }

    /// <summary>How the detail of a placement's event begins.</summary>
    public const string PlacedPrefix = "placed on ";

    /// <summary>Opens a prepared connection to the database (for stores that share it).</summary>
    internal DbConnection Open()
    {
        var c = _source.OpenConnection();
        Dialect.Prepare(c);
        return c;
    }

    /// <summary>Opens a prepared connection without blocking a thread (the request path).</summary>
    internal async Task<DbConnection> OpenAsync(CancellationToken cancel)
    {
        var c = await _source.OpenConnectionAsync(cancel);
        try
        {
            await Dialect.PrepareAsync(c, cancel);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a write in the store's group commit (for stores that share the database).</summary>
    internal Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write) => _writes.RunAsync(write);

    /// <summary>
    /// Runs a write of the scheduler of epoch <paramref name="epoch"/> (for stores that share the database), fenced
    /// by its lease as the scheduler's job writes are: <see cref="LeaseLostException"/> and nothing written when another replica has led since.
    /// </summary>
    internal T FencedWrite<T>(long epoch, Func<DbConnection, DbTransaction, Task<T>> write) =>
        SchedulerWrite(async (c, t) =>
        {
            await CheckLeaseAsync(c, t, epoch);
            return await write(c, t);
        });

    /// <summary>Runs a write in the store's group commit together with others queued for the same <paramref name="writeAll"/>.</summary>
    internal Task<TResult> WriteGroupedAsync<TItem, TResult>(TItem item, Func<DbConnection, DbTransaction, IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> writeAll) =>
        _writes.RunGroupedAsync(item, writeAll);

    /// <inheritdoc />
    public void Dispose()
    {
        _writes.Dispose();
        _source.Dispose();
    }

    private static async Task<StoredJob?> GetAsync(DbConnection c, DbTransaction? t, long id, CancellationToken cancel)
    {
        await using var cmd = Command(c, t, "SELECT * FROM jobs WHERE id = @id;", ("@id", id));
        return (await ReadAsync(cmd, cancel)).FirstOrDefault();
    }

    private static async Task<List<StoredJob>> ReadAsync(DbCommand cmd, CancellationToken cancel)
    {
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<StoredJob>();
        while (await r.ReadAsync(cancel)) list.Add(ReadJob(r));
        return list;
    }

    private static List<StoredJob> Read(DbCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<StoredJob>();
        while (r.Read()) list.Add(ReadJob(r));
        return list;
    }

    private static StoredJob ReadJob(DbDataReader r)
    {
        string? Text(string col) => r.IsDBNull(r.GetOrdinal(col)) ? null : r.GetString(r.GetOrdinal(col));
        var models = r.GetString(r.GetOrdinal("models"));
        return new StoredJob(
            r.GetInt64(r.GetOrdinal("id")),
            new NewJob(r.GetString(r.GetOrdinal("name")), r.GetString(r.GetOrdinal("tenant")), r.GetInt32(r.GetOrdinal("gpus")),
                models.Length == 0 ? [] : models.Split('|'), r.GetInt64(r.GetOrdinal("time_limit_seconds")), r.GetInt32(r.GetOrdinal("priority")),
                Text("priority_class"), Text("command"), r.IsDBNull(r.GetOrdinal("runtime_seconds")) ? null : r.GetInt64(r.GetOrdinal("runtime_seconds")),
                JobFieldRules.ParseTopology(Text("topology")) ?? throw new InvalidDataException($"job {r.GetInt64(r.GetOrdinal("id"))}: unknown topology '{Text("topology")}'"),
                Text("required_site"), Text("data_site"), r.GetDouble(r.GetOrdinal("data_gb")), r.GetInt64(r.GetOrdinal("checkpoint_seconds")),
                r.GetDouble(r.GetOrdinal("cpus_per_gpu")), r.GetDouble(r.GetOrdinal("memory_gb_per_gpu")), SliceOf(r.GetInt64(r.GetOrdinal("id")), Text("slice"))),
            Enum.Parse<JobState>(r.GetString(r.GetOrdinal("state"))),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(r.GetOrdinal("submitted_at"))), Text("placement"), Text("detail"),
            PlacedSlice.Parse(r.GetInt64(r.GetOrdinal("id")), Text("slices")));
    }

    // A slice in its column as a trace cell spells it (mig:1g.23gb, 0.25:20); null for whole GPUs.
    private static string? SliceColumn(SliceRequest? slice) => slice is null ? null : JobFieldRules.SliceCell(slice);

    private static SliceRequest? SliceOf(long id, string? column) =>
        JobFieldRules.ParseSlice(column, out var problem) is var slice && problem is null ? slice
        : throw new InvalidDataException($"job {id}: slice '{column}' {problem}");

    internal static DbCommand Command(DbConnection c, DbTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = sql;
        foreach (var (name, value) in args) AddParameter(cmd, name, value);
        return cmd;
    }

    // Most values bound into one IN (...) list: well below both databases' limits on parameters.
    private const int MaxListed = 500;

    // A command whose {0} is an IN list of one parameter per value.
    private static DbCommand ListedCommand(DbConnection c, DbTransaction? t, string sqlFormat, IReadOnlyList<long> values)
    {
        var cmd = Command(c, t, string.Format(System.Globalization.CultureInfo.InvariantCulture, sqlFormat, string.Join(',', values.Select((_, i) => $"@v{i}"))));
        for (var i = 0; i < values.Count; i++) AddParameter(cmd, $"@v{i}", values[i]);
        return cmd;
    }

    private static void AddParameter(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    internal static int Exec(DbConnection c, DbTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(c, t, sql, args);
        return cmd.ExecuteNonQuery();
    }

    internal static object? Scalar(DbConnection c, DbTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(c, t, sql, args);
        return cmd.ExecuteScalar();
    }

    internal static async Task<int> ExecAsync(DbConnection c, DbTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(c, t, sql, args);
        return await cmd.ExecuteNonQueryAsync();
    }

    internal static async Task<object?> ScalarAsync(DbConnection c, DbTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(c, t, sql, args);
        return await cmd.ExecuteScalarAsync();
    }
}
