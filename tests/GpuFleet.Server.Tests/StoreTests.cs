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
    public void Only_one_replica_holds_the_scheduler_lease_and_releasing_it_frees_it()
    {
        var db = RunningServer.NewDatabase(backend);
        using var store = new JobStore(db);
        var first = store.Dialect.TryLead(db);
        Assert.NotNull(first);
        Assert.True(first.StillHeld());
        Assert.Null(store.Dialect.TryLead(db));
        first.Dispose();
        using var second = store.Dialect.TryLead(db);
        Assert.NotNull(second);
    }

    [Fact]
    public async Task A_write_of_a_replaced_leader_is_refused_and_changes_nothing()
    {
        using var store = new JobStore(RunningServer.NewDatabase(backend));
        var job = (await store.SubmitAsync(Job, null, Now)).Job!;
        var old = store.TakeLease("old", Now);
        var current = store.TakeLease("new", Now);
        Assert.Equal(old + 1, current);
        var refused = Assert.Throws<LeaseLostException>(() =>
            store.TransitionMany([new StateChange(job.Id, JobState.Pending, JobState.Running, "placed", "s/G: nodes 0", "s", "G")], Now, old));
        Assert.Equal(current, refused.Current);
        Assert.Equal(JobState.Pending, store.Get(job.Id)!.State);
        Assert.Single(store.History(job.Id));
        Assert.Equal([true], store.TransitionMany([new StateChange(job.Id, JobState.Pending, JobState.Running, "placed", "s/G: nodes 0", "s", "G")], Now, current));
        Assert.Equal(("new", current), (store.Lease().Holder, store.Lease().Epoch));
    }

    [Fact]
    public async Task Submissions_and_cancellations_reach_the_inbox_until_taken_up()
    {
        using var store = new JobStore(RunningServer.NewDatabase(backend));
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
        store.ClearInbox([inbox[0].Seq, inbox[2].Seq]);
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
        var stored = store.Get(job.Id)!;
        Assert.Equal((JobState.Succeeded, "s/G: nodes 0"), (stored.State, stored.Placement));
        Assert.Equal([JobState.Pending, JobState.Running, JobState.Succeeded], store.History(job.Id).Select(e => e.State));
    }
}

/// <summary>The store tests on SQLite.</summary>
public sealed class StoreTestsOnSqlite() : StoreTests(Backend.Sqlite);

/// <summary>The store tests on a real PostgreSQL server.</summary>
[Trait("Category", "Postgres")]
public sealed class StoreTestsOnPostgres() : StoreTests(Backend.Postgres);
