using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>The job store's guarantees for replicas: one leader at a time, fenced writes, the inbox.</summary>
[Trait("Category", "Server")]
public abstract class StoreTests(Backend backend)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-25T00:00:00Z");
    private static readonly NewJob Job = new("j", "a", 4, [], 600, 0, null, null, null);
    private static readonly GpuFleet.Server.Security.Caller Member = new(1, GpuFleet.Server.Security.Role.Member, "a");

    [Fact]
    public async Task A_store_told_to_start_its_job_ids_above_now_gives_ids_no_earlier_store_gave()
    {
        using var store = new JobStore(RunningServer.NewDatabase(backend));
        store.StartJobIdsAboveNow(Now);
        var job = (await store.SubmitAsync(Job, null, Now)).Job!;
        Assert.True(job.Id > Now.ToUnixTimeMilliseconds() * 1000, $"id {job.Id}");
    }

    [Fact]
    public void Only_one_replica_holds_the_scheduler_lease_and_releasing_it_frees_it()
    {
        var db = RunningServer.NewDatabase(backend);
        using var store = new JobStore(db);
        using var a = store.Dialect.OpenSession(db);
        using var b = store.Dialect.OpenSession(db);
        var first = store.TryTakeLease("a", a, Now);
        Assert.NotNull(first);
        Assert.Null(store.TryTakeLease("b", b, Now));
        Assert.True(store.RenewLease(first.Value));
        store.ReleaseLease(first.Value);
        Assert.Equal(first + 1, store.TryTakeLease("b", b, Now));
        Assert.False(store.RenewLease(first.Value));
        Assert.Equal("b", store.Lease().Holder);
    }

    [Fact]
    public async Task A_leader_silent_past_its_lease_is_replaced_and_then_fenced_out_of_every_write_the_inbox_included()
    {
        var db = RunningServer.NewDatabase(backend);
        using var store = new JobStore(db, TimeSpan.FromSeconds(1));
        using var a = store.Dialect.OpenSession(db);
        using var b = store.Dialect.OpenSession(db);
        var stale = store.TryTakeLease("a", a, Now)!.Value;
        // "a" reads the inbox, then freezes past its lease.
        var early = (await store.SubmitAsync(Job, null, Now)).Job!;
        var read = store.ReadInbox(100);
        Assert.Null(store.TryTakeLease("b", b, Now));
        var until = store.Lease().ExpiresAt!.Value;
        while (store.Lease().ReadAt <= until) await Task.Delay(100);
        var current = store.TryTakeLease("b", b, Now);
        Assert.Equal(stale + 1, current);
        // Submitted after the new leader took over; the stale leader's clear must not remove what it did not take up.
        var late = (await store.SubmitAsync(Job, null, Now)).Job!;
        var lost = Assert.Throws<LeaseLostException>(() => store.ClearInbox([.. read.Select(e => e.Seq), .. store.ReadInbox(100).Select(e => e.Seq)], stale));
        Assert.Equal(current, lost.Current);
        Assert.Equal([early.Id, late.Id], store.ReadInbox(100).Select(e => e.Job.Id));
        Assert.False(store.RenewLease(stale));
        Assert.Throws<LeaseLostException>(() => store.PublishSnapshot("{}", Now, stale, null));
        Assert.Throws<LeaseLostException>(() =>
            store.TransitionMany([new StateChange(late.Id, JobState.Pending, JobState.Running, "placed", "s/G: nodes 0[0-3]", "s", "G")], Now, stale));
        Assert.Equal(JobState.Pending, (await store.GetAsync(late.Id))!.State);
        store.ClearInbox([.. store.ReadInbox(100).Select(e => e.Seq)], current!.Value);
        Assert.Empty(store.ReadInbox(100));
    }

    [Fact]
    public async Task A_lease_whose_holder_died_is_free_at_once()
    {
        var db = RunningServer.NewDatabase(backend);
        using var store = new JobStore(db, TimeSpan.FromMinutes(10));
        using var b = store.Dialect.OpenSession(db);
        using (var dead = await DeadSessionAsync(store, db))
        {
            Assert.NotNull(store.TryTakeLease("dead", dead, Now));
        }
        Assert.True(store.Lease().Running);
        // The database notices a closed session within moments; a standby tries every cycle.
        long? taken = null;
        for (var i = 0; i < 50 && taken is null; i++)
        {
            taken = store.TryTakeLease("b", b, Now);
            if (taken is null) await Task.Delay(100);
        }
        Assert.NotNull(taken);
        // A live holder keeps it for the whole lease.
        using var c = store.Dialect.OpenSession(db);
        Assert.Null(store.TryTakeLease("c", c, Now));
    }

    // A session whose process (SQLite) or database session (PostgreSQL) has ended.
    private async Task<ReplicaSession> DeadSessionAsync(JobStore store, string db)
    {
        if (backend == Backend.Postgres)
        {
            var session = store.Dialect.OpenSession(db);
            var liveness = session.Liveness;
            session.Dispose();
            return new RecordedSession(liveness);
        }
        using var child = System.Diagnostics.Process.Start("sleep", "30")!;
        var stat = await File.ReadAllTextAsync($"/proc/{child.Id}/stat");
        var recorded = $"{Environment.MachineName}/{child.Id}/{stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19]}";
        child.Kill();
        await child.WaitForExitAsync();
        return new RecordedSession(recorded);
    }

    private sealed class RecordedSession(string liveness) : ReplicaSession
    {
        public override string Liveness => liveness;
    }

    [Fact]
    public async Task A_write_of_a_replaced_leader_is_refused_and_changes_nothing()
    {
        var db = RunningServer.NewDatabase(backend);
        using var store = new JobStore(db);
        using var session = store.Dialect.OpenSession(db);
        var job = (await store.SubmitAsync(Job, null, Now)).Job!;
        var old = store.TryTakeLease("old", session, Now)!.Value;
        store.ReleaseLease(old);
        var current = store.TryTakeLease("new", session, Now)!.Value;
        Assert.Equal(old + 1, current);
        var refused = Assert.Throws<LeaseLostException>(() =>
            store.TransitionMany([new StateChange(job.Id, JobState.Pending, JobState.Running, "placed", "s/G: nodes 0", "s", "G")], Now, old));
        Assert.Equal(current, refused.Current);
        Assert.Equal(JobState.Pending, (await store.GetAsync(job.Id))!.State);
        Assert.Single(await store.HistoryAsync(job.Id));
        Assert.Equal([true], store.TransitionMany([new StateChange(job.Id, JobState.Pending, JobState.Running, "placed", "s/G: nodes 0", "s", "G")], Now, current));
        Assert.Equal(("new", current), (store.Lease().Holder, store.Lease().Epoch));
    }

    [Fact]
    public async Task Submissions_and_cancellations_reach_the_inbox_until_taken_up()
    {
        var db = RunningServer.NewDatabase(backend);
        using var store = new JobStore(db);
        using var session = store.Dialect.OpenSession(db);
        var a = (await store.SubmitAsync(Job, null, Now)).Job!;
        var keyed = Job with { Name = "k" };
        var b = (await store.SubmitAsync(keyed, IdempotencyKey.For("key-1", Member, [keyed], batch: false), Now)).Job!;
        var (again, replayed) = await store.SubmitAsync(keyed, IdempotencyKey.For("key-1", Member, [keyed], batch: false), Now);
        Assert.Equal((b.Id, SubmitOutcome.Replayed), (again!.Id, replayed));
        // The same key for another job, or by another caller, stores nothing.
        var other = Job with { Name = "other" };
        Assert.Equal((null, SubmitOutcome.KeyReused), await store.SubmitAsync(other, IdempotencyKey.For("key-1", Member, [other], batch: false), Now));
        Assert.Equal((null, SubmitOutcome.KeyReused), await store.SubmitAsync(keyed, IdempotencyKey.For("key-1", Member with { TokenId = 2 }, [keyed], batch: false), Now));
        Assert.True(store.Transition(a.Id, JobState.Pending, JobState.Cancelled, Now, "cancelled by request"));
        var inbox = store.ReadInbox(100);
        Assert.Equal([(a.Id, InboxKind.Submitted), (b.Id, InboxKind.Submitted), (a.Id, InboxKind.Cancelled)], inbox.Select(e => (e.Job.Id, e.Kind)));
        Assert.All(inbox.Where(e => e.Job.Id == a.Id), e => Assert.Equal(JobState.Cancelled, e.Job.State));
        var epoch = store.TryTakeLease("me", session, Now)!.Value;
        store.ClearInbox([inbox[0].Seq, inbox[2].Seq], epoch);
        Assert.Equal([b.Id], store.ReadInbox(100).Select(e => e.Job.Id));
    }

    [Fact]
    public async Task State_changes_apply_once_and_only_along_allowed_transitions()
    {
        using var store = new JobStore(RunningServer.NewDatabase(backend));
        var job = (await store.SubmitAsync(Job, null, Now)).Job!;
        var place = new StateChange(job.Id, JobState.Pending, JobState.Running, "placed on s/G: nodes 0", "s/G: nodes 0", "s", "G");
        // The second of two identical changes finds the job moved already.
        Assert.Equal([true], store.TransitionMany([place], Now));
        Assert.Equal([false], store.TransitionMany([place], Now));
        Assert.True(store.Transition(job.Id, JobState.Running, JobState.Succeeded, Now, "ended"));
        Assert.Throws<InvalidOperationException>(() => store.Transition(job.Id, JobState.Succeeded, JobState.Running, Now, null));
        var stored = (await store.GetAsync(job.Id))!;
        Assert.Equal((JobState.Succeeded, "s/G: nodes 0"), (stored.State, stored.Placement));
        Assert.Equal([JobState.Pending, JobState.Running, JobState.Succeeded], (await store.HistoryAsync(job.Id)).Select(e => e.State));
    }
}

/// <summary>The store tests on SQLite.</summary>
public sealed class StoreTestsOnSqlite() : StoreTests(Backend.Sqlite);

/// <summary>The store tests on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class StoreTestsOnPostgres() : StoreTests(Backend.Postgres);
