using GpuFleet.Server.Jobs;
using Microsoft.Data.Sqlite;

namespace GpuFleet.Server.Storage;

/// <summary>
/// Jobs in an embedded SQLite file, in WAL mode. Every write is one transaction, committed before the
/// caller answers: a job that got its 201 is on disk. State changes are compare-and-set on the current
/// state (<c>UPDATE … WHERE state = @from</c>), checked against <see cref="JobTransitions"/>, and
/// recorded in the job's history. Schema migrations run on open, in order, once each.
/// </summary>
public sealed class SqliteJobStore
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL, tenant TEXT NOT NULL, gpus INTEGER NOT NULL, models TEXT NOT NULL,
            time_limit_seconds INTEGER NOT NULL, priority INTEGER NOT NULL, priority_class TEXT,
            command TEXT, runtime_seconds INTEGER, state TEXT NOT NULL, submitted_at INTEGER NOT NULL,
            placement TEXT, detail TEXT);
        CREATE INDEX jobs_state ON jobs(state);
        CREATE INDEX jobs_tenant ON jobs(tenant, id);
        CREATE TABLE job_events (job_id INTEGER NOT NULL, at INTEGER NOT NULL, state TEXT NOT NULL, detail TEXT);
        CREATE INDEX job_events_job ON job_events(job_id);
        CREATE TABLE idempotency (tenant TEXT NOT NULL, key TEXT NOT NULL, job_id INTEGER NOT NULL, PRIMARY KEY (tenant, key));
        """,
        Security.TokenStore.Schema,
        "ALTER TABLE jobs ADD COLUMN site TEXT; ALTER TABLE jobs ADD COLUMN model TEXT;",
    ];

    private readonly string _connectionString;
    // Writers queue here rather than in SQLite's busy handler, whose sleeps would set the tail latency.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentQueue<QueuedSubmit> _submits = new();

    /// <summary>Opens (and creates or migrates) the database file.</summary>
    public SqliteJobStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var c = Open();
        Exec(c, null, "PRAGMA journal_mode=WAL;");
        Exec(c, null, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");
        var version = Convert.ToInt32(Scalar(c, null, "SELECT COALESCE(MAX(version), 0) FROM schema_version;"));
        for (var v = version; v < Migrations.Length; v++)
        {
            using var t = c.BeginTransaction();
            Exec(c, t, Migrations[v]);
            Exec(c, t, $"INSERT INTO schema_version(version) VALUES ({v + 1});");
            t.Commit();
        }
    }

    /// <summary>Connection string of the database, for stores that share the file.</summary>
    public string ConnectionString => _connectionString;

    /// <summary>Schema version after migrations.</summary>
    public int SchemaVersion => Migrations.Length;

    /// <summary>
    /// Stores a new pending job, or — when <paramref name="idempotencyKey"/> was used before by the same
    /// tenant — returns the job stored the first time, with <c>Replayed</c> true.
    /// </summary>
    public (StoredJob Job, bool Replayed) Submit(NewJob job, string? idempotencyKey, DateTimeOffset now) =>
        SubmitAsync(job, idempotencyKey, now).GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="Submit"/> with group commit: concurrent submissions queue up, and whoever holds the
    /// write lock stores every queued one in a single transaction (one WAL sync for the lot). Each
    /// caller is answered only after that commit, so a 201 still means "on disk".
    /// </summary>
    public Task<(StoredJob Job, bool Replayed)> SubmitAsync(NewJob job, string? idempotencyKey, DateTimeOffset now)
    {
        var item = new QueuedSubmit(job, idempotencyKey, now);
        _submits.Enqueue(item);
        return CommitAsync(item);
    }

    private async Task<(StoredJob Job, bool Replayed)> CommitAsync(QueuedSubmit item)
    {
        // Waiting asynchronously keeps 64 waiting clients from holding 64 thread-pool threads.
        await _writeGate.WaitAsync();
        try
        {
            if (!item.Done.Task.IsCompleted) CommitQueued();
        }
        finally
        {
            _writeGate.Release();
        }
        return await item.Done.Task;
    }

    private void CommitQueued()
    {
        var batch = new List<QueuedSubmit>();
        while (batch.Count < 1_000 && _submits.TryDequeue(out var next)) batch.Add(next);
        if (batch.Count == 0) return;
        try
        {
            using var c = Open();
            var answers = new List<(StoredJob? Stored, long Id)>();
            using (var t = c.BeginTransaction())
            {
                foreach (var item in batch)
                {
                    if (item.Key is not null
                        && Scalar(c, t, "SELECT job_id FROM idempotency WHERE tenant = $t AND key = $k;", ("$t", item.Job.Tenant), ("$k", item.Key)) is long existing)
                    {
                        answers.Add((null, existing));
                        continue;
                    }
                    var id = Insert(c, t, item.Job, item.At);
                    if (item.Key is not null)
                        Exec(c, t, "INSERT INTO idempotency (tenant, key, job_id) VALUES ($t, $k, $id);", ("$t", item.Job.Tenant), ("$k", item.Key), ("$id", id));
                    // A new job is exactly what was inserted: no need to read it back.
                    answers.Add((new StoredJob(id, item.Job, JobState.Pending, DateTimeOffset.FromUnixTimeMilliseconds(item.At.ToUnixTimeMilliseconds()), null, null), id));
                }
                t.Commit();
            }
            for (var i = 0; i < batch.Count; i++)
                batch[i].Done.TrySetResult(answers[i].Stored is { } fresh ? (fresh, false) : (Get(c, null, answers[i].Id)!, true));
        }
        catch (Exception e)
        {
            foreach (var item in batch) item.Done.TrySetException(e);
        }
    }

    private sealed class QueuedSubmit(NewJob job, string? key, DateTimeOffset at)
    {
        public NewJob Job { get; } = job;
        public string? Key { get; } = key;
        public DateTimeOffset At { get; } = at;
        public TaskCompletionSource<(StoredJob, bool)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Stores many new pending jobs in one transaction: all of them or none (trace replay, batch submission).</summary>
    public IReadOnlyList<StoredJob> SubmitMany(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        _writeGate.Wait();
        try
        {
            return SubmitManyLocked(jobs, now);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private IReadOnlyList<StoredJob> SubmitManyLocked(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        using var c = Open();
        using var t = c.BeginTransaction();
        var ids = jobs.Select(j => Insert(c, t, j, now)).ToList();
        t.Commit();
        return [.. ids.Select(id => Get(c, null, id)!)];
    }

    private static long Insert(SqliteConnection c, SqliteTransaction t, NewJob job, DateTimeOffset now)
    {
        var id = (long)Scalar(c, t, """
            INSERT INTO jobs (name, tenant, gpus, models, time_limit_seconds, priority, priority_class, command, runtime_seconds, state, submitted_at)
            VALUES ($name, $tenant, $gpus, $models, $limit, $priority, $class, $command, $runtime, 'Pending', $at) RETURNING id;
            """,
            ("$name", job.Name), ("$tenant", job.Tenant), ("$gpus", job.Gpus), ("$models", string.Join('|', job.Models)),
            ("$limit", job.TimeLimitSeconds), ("$priority", job.Priority), ("$class", job.PriorityClass), ("$command", job.Command),
            ("$runtime", job.RuntimeSeconds), ("$at", now.ToUnixTimeMilliseconds()))!;
        Exec(c, t, "INSERT INTO job_events (job_id, at, state, detail) VALUES ($id, $at, 'Pending', 'submitted');", ("$id", id), ("$at", now.ToUnixTimeMilliseconds()));
        return id;
    }

    /// <summary>The job, or null.</summary>
    public StoredJob? Get(long id)
    {
        using var c = Open();
        return Get(c, null, id);
    }

    /// <summary>Jobs by id, optionally of one tenant and state, after an id (paging), at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<StoredJob> List(string? tenant, JobState? state, long afterId, int limit)
    {
        using var c = Open();
        using var cmd = Command(c, null, """
            SELECT * FROM jobs WHERE id > $after AND ($tenant IS NULL OR tenant = $tenant) AND ($state IS NULL OR state = $state)
            ORDER BY id LIMIT $limit;
            """, ("$after", afterId), ("$tenant", tenant), ("$state", state?.ToString()), ("$limit", limit));
        return Read(cmd);
    }

    /// <summary>Jobs that are pending or running: what a restarted scheduler must take up again.</summary>
    public IReadOnlyList<StoredJob> Active()
    {
        using var c = Open();
        using var cmd = Command(c, null, "SELECT * FROM jobs WHERE state IN ('Pending', 'Running') ORDER BY id;");
        return Read(cmd);
    }

    /// <summary>The job's state history, oldest first.</summary>
    public IReadOnlyList<JobEvent> History(long id)
    {
        using var c = Open();
        using var cmd = Command(c, null, "SELECT at, state, detail FROM job_events WHERE job_id = $id ORDER BY rowid;", ("$id", id));
        using var r = cmd.ExecuteReader();
        var list = new List<JobEvent>();
        while (r.Read())
            list.Add(new JobEvent(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), Enum.Parse<JobState>(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2)));
        return list;
    }

    /// <summary>
    /// Moves a job from <paramref name="from"/> to <paramref name="to"/> if it is still in <paramref name="from"/>;
    /// false when it is not (another writer moved it first). Disallowed moves throw.
    /// </summary>
    public bool Transition(long id, JobState from, JobState to, DateTimeOffset at, string? detail, string? placement = null, string? site = null, string? model = null)
    {
        if (!JobTransitions.Allowed(from, to)) throw new InvalidOperationException($"job {id}: {from} -> {to} is not allowed");
        return TransitionMany([new StateChange(id, from, to, detail, placement, site, model)], at)[0];
    }

    /// <summary>Applies several checked state changes in one transaction; for each, whether it applied.</summary>
    public bool[] TransitionMany(IReadOnlyList<StateChange> changes, DateTimeOffset at)
    {
        foreach (var ch in changes)
            if (!JobTransitions.Allowed(ch.From, ch.To)) throw new InvalidOperationException($"job {ch.Id}: {ch.From} -> {ch.To} is not allowed");
        var applied = new bool[changes.Count];
        if (changes.Count == 0) return applied;
        _writeGate.Wait();
        try
        {
            using var c = Open();
            using var t = c.BeginTransaction();
            for (var i = 0; i < changes.Count; i++) applied[i] = TransitionIn(c, t, changes[i], at);
            t.Commit();
        }
        finally
        {
            _writeGate.Release();
        }
        return applied;
    }

    private static bool TransitionIn(SqliteConnection c, SqliteTransaction t, StateChange ch, DateTimeOffset at)
    {
        var changed = Command(c, t, """
            UPDATE jobs SET state = $to, detail = $detail,
                placement = CASE WHEN $to = 'Running' THEN $placement ELSE placement END,
                site = CASE WHEN $to = 'Running' THEN $site ELSE site END,
                model = CASE WHEN $to = 'Running' THEN $model ELSE model END
            WHERE id = $id AND state = $from;
            """, ("$to", ch.To.ToString()), ("$detail", ch.Detail), ("$placement", ch.Placement), ("$site", ch.Site), ("$model", ch.Model),
            ("$id", ch.Id), ("$from", ch.From.ToString())).ExecuteNonQuery();
        if (changed == 0) return false;
        Exec(c, t, "INSERT INTO job_events (job_id, at, state, detail) VALUES ($id, $at, $state, $detail);",
            ("$id", ch.Id), ("$at", at.ToUnixTimeMilliseconds()), ("$state", ch.To.ToString()), ("$detail", ch.Detail));
        return true;
    }

    /// <summary>
    /// Every stretch of time a job held GPUs that overlaps [<paramref name="from"/>, <paramref name="to"/>):
    /// from each <c>Running</c> event to the job's next event (or <paramref name="to"/> while it still runs),
    /// with the site and model of its latest placement.
    /// </summary>
    public IReadOnlyList<RunInterval> RunIntervals(DateTimeOffset from, DateTimeOffset to, string? tenant)
    {
        using var c = Open();
        using var cmd = Command(c, null, """
            SELECT j.tenant, j.gpus, j.site, j.model, e.at,
                   (SELECT MIN(n.at) FROM job_events n WHERE n.job_id = e.job_id AND n.rowid > e.rowid) AS until
            FROM job_events e JOIN jobs j ON j.id = e.job_id
            WHERE e.state = 'Running' AND ($tenant IS NULL OR j.tenant = $tenant) AND e.at < $to;
            """, ("$tenant", tenant), ("$to", to.ToUnixTimeMilliseconds()));
        using var r = cmd.ExecuteReader();
        var list = new List<RunInterval>();
        while (r.Read())
        {
            var start = Math.Max(r.GetInt64(4), from.ToUnixTimeMilliseconds());
            var end = Math.Min(r.IsDBNull(5) ? to.ToUnixTimeMilliseconds() : r.GetInt64(5), to.ToUnixTimeMilliseconds());
            if (end <= start) continue;
            list.Add(new RunInterval(r.GetString(0), r.GetInt32(1), r.IsDBNull(2) ? "" : r.GetString(2), r.IsDBNull(3) ? "" : r.GetString(3), (end - start) / 1000.0));
        }
        return list;
    }

    private SqliteConnection Open() => OpenConnection(_connectionString);

    /// <summary>Opens a connection that waits (up to 30 s) rather than fails when another process holds the write lock.</summary>
    internal static SqliteConnection OpenConnection(string connectionString)
    {
        var c = new SqliteConnection(connectionString);
        c.Open();
        Exec(c, null, "PRAGMA busy_timeout = 30000;");
        return c;
    }

    private static StoredJob? Get(SqliteConnection c, SqliteTransaction? t, long id)
    {
        using var cmd = Command(c, t, "SELECT * FROM jobs WHERE id = $id;", ("$id", id));
        return Read(cmd).FirstOrDefault();
    }

    private static List<StoredJob> Read(SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<StoredJob>();
        while (r.Read())
        {
            string? Text(string col) => r.IsDBNull(r.GetOrdinal(col)) ? null : r.GetString(r.GetOrdinal(col));
            var models = r.GetString(r.GetOrdinal("models"));
            list.Add(new StoredJob(
                r.GetInt64(r.GetOrdinal("id")),
                new NewJob(r.GetString(r.GetOrdinal("name")), r.GetString(r.GetOrdinal("tenant")), r.GetInt32(r.GetOrdinal("gpus")),
                    models.Length == 0 ? [] : models.Split('|'), r.GetInt64(r.GetOrdinal("time_limit_seconds")), r.GetInt32(r.GetOrdinal("priority")),
                    Text("priority_class"), Text("command"), r.IsDBNull(r.GetOrdinal("runtime_seconds")) ? null : r.GetInt64(r.GetOrdinal("runtime_seconds"))),
                Enum.Parse<JobState>(r.GetString(r.GetOrdinal("state"))),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(r.GetOrdinal("submitted_at"))), Text("placement"), Text("detail")));
        }
        return list;
    }

    private static SqliteCommand Command(SqliteConnection c, SqliteTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = sql;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private static void Exec(SqliteConnection c, SqliteTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(c, t, sql, args);
        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection c, SqliteTransaction? t, string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(c, t, sql, args);
        return cmd.ExecuteScalar();
    }
}
