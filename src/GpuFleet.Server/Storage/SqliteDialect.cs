using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace GpuFleet.Server.Storage;

/// <summary>
/// The embedded database: one SQLite file in WAL mode. Several server processes on one machine may
/// share the file; a lease holder is known alive by its process (id and start time), which every
/// process sharing the file can see.
/// </summary>
public sealed class SqliteDialect : StoreDialect
{
    /// <inheritdoc />
    public override string Name => "sqlite";

    /// <inheritdoc />
    public override bool SingleWriter => true;

    /// <inheritdoc />
    public override bool BatchesRoundTrips => false;

    /// <inheritdoc />
    public override string EventOrder => "rowid";

    /// <inheritdoc />
    public override string StartJobIdsAboveSql => "INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', @floor);";

    /// <inheritdoc />
    public override IReadOnlyList<string> Migrations { get; } =
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
        """
        CREATE TABLE tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, tenant TEXT, created_at INTEGER NOT NULL);
        CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, token_id INTEGER, role TEXT, tenant TEXT,
            method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL);
        """,
        "ALTER TABLE jobs ADD COLUMN site TEXT; ALTER TABLE jobs ADD COLUMN model TEXT;",
        """
        CREATE TABLE scheduler_inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, kind TEXT NOT NULL);
        CREATE TABLE scheduler_lease (id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, holder TEXT, acquired_at INTEGER, snapshot TEXT, snapshot_at INTEGER);
        INSERT INTO scheduler_lease (id, epoch) VALUES (1, 0);
        """,
        "ALTER TABLE scheduler_lease ADD COLUMN leader_url TEXT;",
        "ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;",
        // An Idempotency-Key is bound to the request it was first used for; a batch's key lists its jobs.
        "ALTER TABLE idempotency ADD COLUMN request_hash TEXT; ALTER TABLE idempotency ADD COLUMN job_ids TEXT;",
        "ALTER TABLE scheduler_lease ADD COLUMN expires_at INTEGER; ALTER TABLE scheduler_lease ADD COLUMN liveness TEXT;",
        // Every field of a native trace's jobs; existing jobs get the defaults. "site" already holds the
        // site a job runs at (its placement), so the site it asks for is "required_site".
        """
        ALTER TABLE jobs ADD COLUMN topology TEXT NOT NULL DEFAULT 'site';
        ALTER TABLE jobs ADD COLUMN required_site TEXT;
        ALTER TABLE jobs ADD COLUMN data_site TEXT;
        ALTER TABLE jobs ADD COLUMN data_gb REAL NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN checkpoint_seconds INTEGER NOT NULL DEFAULT 0;
        """,
        // A job's CPU cores and memory per GPU (0: not asked) and its slice of a GPU, as a trace cell spells
        // it (mig:1g.23gb, 0.25:20; null: whole GPUs); existing jobs asked for whole GPUs and nothing else.
        """
        ALTER TABLE jobs ADD COLUMN cpus_per_gpu REAL NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN memory_gb_per_gpu REAL NOT NULL DEFAULT 0;
        ALTER TABLE jobs ADD COLUMN slice TEXT;
        """,
        // A slice job's latest placement on GPU slices (node, GPU, MIG profile and start, fraction, memory) as
        // a JSON array, beside its placement's text; null for whole GPUs and for every job placed before.
        "ALTER TABLE jobs ADD COLUMN slices TEXT;",
        // Inference services (docs/services.md): the spec as the API's JSON, the request rate last reported or
        // scraped, a manual replica count that overrides it, and the leader's latest scale decisions. Replicas
        // are jobs whose "service" names their service; other jobs have none.
        """
        CREATE TABLE services (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, spec TEXT NOT NULL,
            prometheus_url TEXT, created_at INTEGER NOT NULL, requests_per_second REAL NOT NULL DEFAULT 0, rate_at INTEGER,
            pinned_replicas INTEGER, scraped_at INTEGER, scrape_error TEXT, decisions TEXT);
        ALTER TABLE jobs ADD COLUMN service TEXT;
        CREATE INDEX jobs_service ON jobs(service, state);
        """,
        // Active jobs are found through a column that changes once in a job's life, when it ends, so that
        // placing a job updates no index (as on PostgreSQL, where that makes the update in place).
        """
        DROP INDEX jobs_state;
        DROP INDEX jobs_service;
        ALTER TABLE jobs ADD COLUMN active INTEGER GENERATED ALWAYS AS (state IN ('Pending', 'Running')) VIRTUAL;
        CREATE INDEX jobs_active ON jobs(id) WHERE active;
        CREATE INDEX jobs_service ON jobs(service) WHERE service IS NOT NULL;
        """,
    ];

    /// <inheritdoc />
    public override string NowMillis => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

    /// <inheritdoc />
    // SQLite cannot end another process's transaction: a process frozen inside one holds the file's
    // write lock until it resumes or dies (docs/control-plane.md says so).
    public override DbDataSource CreateDataSource(string database, TimeSpan idleTransactionLimit) =>
        SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = database, Pooling = true, DefaultTimeout = 30 }.ToString());

    // Pooled connections keep their native handle, and with it their settings: prepare each handle once.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Prepared = [];

    /// <inheritdoc />
    public override void Prepare(DbConnection connection)
    {
        if (((SqliteConnection)connection).Handle is not { } handle || Prepared.TryGetValue(handle, out _)) return;
        using var cmd = connection.CreateCommand();
        cmd.CommandText = PrepareSql;
        cmd.ExecuteNonQuery();
        Prepared.AddOrUpdate(handle, true);
    }

    /// <inheritdoc />
    public override async Task PrepareAsync(DbConnection connection, CancellationToken cancel)
    {
        if (((SqliteConnection)connection).Handle is not { } handle || Prepared.TryGetValue(handle, out _)) return;
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = PrepareSql;
        await cmd.ExecuteNonQueryAsync(cancel);
        Prepared.AddOrUpdate(handle, true);
    }

    // Wait (up to 30 s) rather than fail when another process holds the write lock. WAL mode is a
    // property of the file (set at creation); synchronous stays at the library's FULL, in WAL mode
    // too (DEFAULT_WAL_SYNCHRONOUS=2), so a commit is on disk when it returns.
    private const string PrepareSql = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL;";

    /// <inheritdoc />
    public override ReplicaSession OpenSession(string database) => new ProcessSession();

    /// <inheritdoc />
    public override bool IsAlive(DbConnection connection, string liveness)
    {
        // "machine/pid/start"; a process on another machine cannot be seen from here.
        var parts = liveness.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid)) return true;
        // A reused process id belongs to a process started later.
        return StartOf(pid) == parts[2];
    }

    // When a process started, exactly (Linux: clock ticks after boot, from /proc), or null when there is
    // no such process. Not Process.StartTime: it is derived from the uptime each reader sees, and differs
    // slightly from one reading process to the next.
    private static string? StartOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The second field, the command, is parenthesised and may hold spaces; the start is the 22nd.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (OperatingSystem.IsLinux()) return null;
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited ? null : process.StartTime.ToUniversalTime().ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public override string Describe(string database) => $"sqlite {Path.GetFullPath(database)}";

    private sealed class ProcessSession : ReplicaSession
    {
        public override string Liveness { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{StartOf(Environment.ProcessId)}";
    }
}
