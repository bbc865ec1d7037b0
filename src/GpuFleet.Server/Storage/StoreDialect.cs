using System.Data.Common;

namespace GpuFleet.Server.Storage;

/// <summary>
/// What differs between the databases GpuFleet stores jobs in: the schema (identity columns), how a
/// connection is prepared, whether writers must queue, the database's clock, and how one replica
/// tells whether the scheduler lease's holder still lives. The SQL of <see cref="JobStore"/> and <see cref="Security.TokenStore"/> is otherwise
/// shared: both databases take <c>@name</c> parameters, <c>RETURNING</c> and <c>ON CONFLICT</c>.
/// </summary>
public abstract class StoreDialect
{
    /// <summary>"sqlite" or "postgres".</summary>
    public abstract string Name { get; }

    /// <summary>Schema migrations, in order; each runs once, in a transaction.</summary>
    public abstract IReadOnlyList<string> Migrations { get; }

    /// <summary>
    /// SQL run first in the migration transaction, so that replicas starting together migrate one at a
    /// time (empty where one process owns the database).
    /// </summary>
    public virtual string MigrationLock => "";

    /// <summary>True where the database takes one writer at a time: writers then queue in the process, not in the database's retry loop.</summary>
    public abstract bool SingleWriter { get; }

    /// <summary>
    /// True where each statement is a network round trip (PostgreSQL): repeated statements are then sent
    /// as one batch, and a write that touches several tables is one statement (a writing CTE). Where
    /// statements are calls into the same process (SQLite), one prepared statement is re-run instead.
    /// </summary>
    public abstract bool BatchesRoundTrips { get; }

    /// <summary>The column that orders a job's events (SQLite's implicit rowid, PostgreSQL's identity column).</summary>
    public abstract string EventOrder { get; }

    /// <summary>A statement that makes the next job id greater than <c>@floor</c> (in a store with no jobs yet).</summary>
    public abstract string StartJobIdsAboveSql { get; }

    /// <summary>
    /// A data source for the database named by <paramref name="database"/>. A transaction left open
    /// longer than <paramref name="idleTransactionLimit"/> by a silent client (a frozen process) is
    /// ended by the server where it can do so, so that its locks cannot hold up a new leader.
    /// </summary>
    public abstract DbDataSource CreateDataSource(string database, TimeSpan idleTransactionLimit);

    /// <summary>SQL for the database's clock now, in Unix milliseconds: lease times are on this one clock, whichever replica reads them.</summary>
    public abstract string NowMillis { get; }

    /// <summary>Prepares a freshly opened connection.</summary>
    public virtual void Prepare(DbConnection connection)
    {
    }

    /// <summary><see cref="Prepare"/> for the request path, which must not block a thread on the database.</summary>
    public virtual Task PrepareAsync(DbConnection connection, CancellationToken cancel) => Task.CompletedTask;

    /// <summary>Opens this replica's identity for the scheduler lease (see <see cref="ReplicaSession"/>).</summary>
    public abstract ReplicaSession OpenSession(string database);

    /// <summary>
    /// Makes a connection whose transaction failed (and was rolled back) fit to go back to the pool:
    /// whatever the failure left in the driver's state of the connection must not fail the next
    /// caller that gets it.
    /// </summary>
    public virtual void Recover(DbConnection connection)
    {
    }

    /// <summary>
    /// Whether the replica that recorded <paramref name="liveness"/> still lives. True when it cannot be
    /// told (then only the lease's expiry frees the lease).
    /// </summary>
    public abstract bool IsAlive(DbConnection connection, string liveness);

    /// <summary>What is shown for the database in logs: never a password.</summary>
    public abstract string Describe(string database);

    /// <summary>
    /// The dialect for a <c>--db</c> value: a PostgreSQL connection string (<c>Host=…</c>) or URI
    /// (<c>postgresql://user@host:port/db</c>), otherwise the path of an SQLite file.
    /// </summary>
    public static StoreDialect For(string database) =>
        PostgresDialect.Recognises(database) ? new PostgresDialect() : new SqliteDialect();
}
