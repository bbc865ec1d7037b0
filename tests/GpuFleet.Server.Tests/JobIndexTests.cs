using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>
/// How jobs are found without an index on their state: pending and running jobs through the index of
/// active jobs, in a database made before that index as in a new one. On PostgreSQL, placing a job then
/// changes no indexed column, so that the row is rewritten in its page without touching an index.
/// </summary>
[Trait("Category", "Server")]
public abstract class JobIndexTests(Backend backend)
{
    protected static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public async Task Jobs_stored_before_the_index_of_active_jobs_are_found_by_state_after_the_migration()
    {
        var db = RunningServer.NewDatabase(backend);
        var dialect = StoreDialect.For(db);
        SchemaBefore.Create(db, "jobs_active", c =>
        {
            foreach (var state in Enum.GetValues<JobState>())
                JobStore.Exec(c, null, """
                    INSERT INTO jobs (name, tenant, gpus, models, time_limit_seconds, priority, state, submitted_at, service)
                    VALUES (@name, 'a', 1, 'G', 60, 0, @state, 0, 'chat');
                    """, ("@name", state.ToString()), ("@state", state.ToString()));
        });

        using var store = new JobStore(db);
        Assert.Equal(dialect.Migrations.Count, store.SchemaVersion);
        Assert.Equal(["Pending", "Running"], store.Active().Select(j => j.Spec.Name));
        foreach (var state in Enum.GetValues<JobState>())
            Assert.Equal([state.ToString()], (await store.ListAsync(null, state, 0, 10)).Select(j => j.Spec.Name));
        Assert.Equal([JobState.Pending, JobState.Running], new ServiceStore(store).ActiveReplicas().Select(r => r.State));

        // A job that ends is no longer active; one placed still is.
        var (pending, running) = store.Active() is [var p, var r] ? (p.Id, r.Id) : throw new InvalidOperationException("two active jobs expected");
        Assert.True(store.Transition(running, JobState.Running, JobState.Succeeded, Now, "done"));
        Assert.Equal([true], store.TransitionMany([new StateChange(pending, JobState.Pending, JobState.Running, "placed", "n-1", "s", "G")], Now));
        Assert.Equal([pending], store.Active().Select(j => j.Id));
        Assert.Equal([pending], (await store.ListAsync(null, JobState.Running, 0, 10)).Select(j => j.Id));
        Assert.Empty(await store.ListAsync(null, JobState.Pending, 0, 10));
        Assert.Equal(2, (await store.ListAsync(null, JobState.Succeeded, 0, 10)).Count);
    }
}

/// <summary>The tests above on SQLite.</summary>
public sealed class JobIndexTestsOnSqlite() : JobIndexTests(Backend.Sqlite);

/// <summary>The tests above on a real PostgreSQL server, and what placing a job costs there.</summary>
[Trait("Category", "Postgres")]
public sealed class JobIndexTestsOnPostgres() : JobIndexTests(Backend.Postgres)
{
    [Fact]
    public async Task Placing_a_job_rewrites_its_row_without_touching_an_index()
    {
        var db = RunningServer.NewDatabase(Backend.Postgres);
        using var store = new JobStore(db);
        var (job, _) = await store.SubmitAsync(new NewJob("j", "a", 8, ["G"], 60, 0, null, null, null), null, Now);
        var dialect = StoreDialect.For(db);
        using var source = dialect.CreateDataSource(db, TimeSpan.FromSeconds(10));
        using var c = source.OpenConnection();

        // No index of jobs holds a column that placing a job changes.
        using (var indexes = c.CreateCommand())
        {
            indexes.CommandText = "SELECT indexdef FROM pg_indexes WHERE tablename = 'jobs';";
            using var r = indexes.ExecuteReader();
            var placed = new[] { "state", "detail", "placement", "site", "model", "slices" };
            while (r.Read())
                Assert.DoesNotMatch($@"\b({string.Join('|', placed)})\b", r.GetString(0));
        }

        // The counter of this transaction's in-place (HOT) updates of jobs counts the placement.
        using var t = c.BeginTransaction();
        JobStore.Exec(c, t, """
            UPDATE jobs SET state = 'Running', detail = 'placed on n-[1-8]', placement = 'n-[1-8]', site = 's', model = 'G', slices = NULL
            WHERE id = @id;
            """, ("@id", job!.Id));
        using var hot = c.CreateCommand();
        hot.Transaction = t;
        hot.CommandText = "SELECT pg_stat_get_xact_tuples_hot_updated('jobs'::regclass);";
        Assert.Equal(1L, Convert.ToInt64(hot.ExecuteScalar()));
    }
}
