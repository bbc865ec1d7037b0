using System.Collections.Concurrent;
using System.Data.Common;

namespace GpuFleet.Server.Storage;

/// <summary>
/// Group commit: writes queue up, and whoever holds the write turn runs every queued write in one
/// transaction (one log sync for the lot). Each writer is answered only after that commit, so an
/// answer still means "on disk". Writes of the same kind (<see cref="RunGroupedAsync"/>) are handed
/// over together, so that they can share prepared statements or one round trip. If the shared
/// transaction fails, each write is retried alone, so that one bad write fails only its own caller;
/// and the connection it failed on is recovered (<paramref name="recover"/>) before it goes back to the
/// pool, so that the next writer does not inherit what the failure left on it.
/// </summary>
/// <remarks>
/// No caller's thread waits here: writers await their commit. Where the driver's calls really wait
/// for the database (PostgreSQL) the writers take turns, and the turn's holder awaits the database.
/// Where they cannot (Microsoft.Data.Sqlite's async methods run synchronously: a commit holds its
/// thread through the log sync), one writer thread of the group commit's own runs every transaction,
/// so that no thread-pool thread is held by a commit. A queued write is never cancelled: once queued
/// it may share a transaction with others, and it commits or rolls back with them (a client that went
/// away still gets its write finished, and audited, rather than half-done).
/// </remarks>
internal sealed class GroupCommit : IDisposable
{
    private const int MaxBatch = 1_000;
    private readonly Func<CancellationToken, Task<DbConnection>> _open;
    private readonly Action<DbConnection> _recover;
    // Writers queue here rather than in the database's busy handler, whose sleeps would set the tail
    // latency. Two turns where the database takes many writers (PostgreSQL), so that one group is built
    // while another waits for its commit (with more turns the groups only got smaller: bench api
    // measured 1 to 3 turns alike, 4 no better).
    private readonly SemaphoreSlim? _turn;
    private readonly ConcurrentQueue<IQueuedWrite> _queue = new();
    // The writer thread, where the database takes one writer at a time and its driver blocks (SQLite).
    private readonly Thread? _writer;
    private readonly ManualResetEventSlim _queued = new(false);
    private volatile bool _stopping;

    /// <summary>
    /// A group commit on connections from <paramref name="open"/>: with <paramref name="turns"/> writers
    /// at a time that await the database, or (<paramref name="ownThread"/>) one writer thread of its own
    /// for a database that takes one writer at a time through a driver whose calls block.
    /// </summary>
    public GroupCommit(Func<CancellationToken, Task<DbConnection>> open, int turns, bool ownThread, Action<DbConnection> recover)
    {
        _open = open;
        _recover = recover;
        if (!ownThread)
        {
            _turn = new SemaphoreSlim(turns, turns);
            return;
        }
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "gpufleet group commit" };
        _writer.Start();
    }

    /// <summary>Runs <paramref name="write"/> in a transaction, possibly shared with other writes queued at the same moment.</summary>
    public Task<T> RunAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write)
    {
        var item = new QueuedWrite<T>(write);
        return CommitAsync(item, item.Done.Task);
    }

    /// <summary>
    /// Queues <paramref name="item"/> to be written by <paramref name="writeAll"/> together with the
    /// other items queued for the same <paramref name="writeAll"/>; answers the item's own result.
    /// </summary>
    public Task<TResult> RunGroupedAsync<TItem, TResult>(TItem item, Func<DbConnection, DbTransaction, IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> writeAll)
    {
        var queued = new GroupedWrite<TItem, TResult>(item, writeAll);
        return CommitAsync(queued, queued.Done.Task);
    }

    private async Task<T> CommitAsync<T>(IQueuedWrite item, Task<T> done)
    {
        _queue.Enqueue(item);
        if (_turn is null)
        {
            if (_stopping) DrainStopped();
            _queued.Set();
            return await done;
        }
        // Waiting asynchronously keeps 64 waiting clients from holding 64 thread-pool threads.
        await _turn.WaitAsync();
        try
        {
            // Another writer's turn may have committed this one already.
            if (!done.IsCompleted) await CommitQueuedAsync();
        }
        finally
        {
            _turn.Release();
        }
        return await done;
    }

    // The writer thread: whatever queued while the last transaction ran goes into the next.
    private void WriteLoop()
    {
        while (true)
        {
            _queued.Wait();
            _queued.Reset();
            if (_stopping)
            {
                DrainStopped();
                return;
            }
            // Completes on this thread: the driver's calls run synchronously, so nothing here waits for another thread.
            while (!_queue.IsEmpty) CommitQueuedAsync().GetAwaiter().GetResult();
        }
    }

    private void DrainStopped()
    {
        while (_queue.TryDequeue(out var item)) item.Fail(new ObjectDisposedException(nameof(GroupCommit), "the store was closed"));
    }

    /// <summary>Stops the writer thread (after the transaction it runs); writes still queued then fail.</summary>
    public void Dispose()
    {
        if (_writer is null) return;
        _stopping = true;
        _queued.Set();
        _writer.Join();
    }

    private async Task CommitQueuedAsync()
    {
        var batch = new List<IQueuedWrite>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next)) batch.Add(next);
        if (batch.Count == 0) return;
        try
        {
            await RunInTransactionAsync(batch);
            foreach (var item in batch) item.Complete();
            return;
        }
        catch (Exception) when (batch.Count > 1)
        {
            // Fall through: retry one by one.
        }
        catch (Exception e)
        {
            batch[0].Fail(e);
            return;
        }
        foreach (var item in batch)
        {
            try
            {
                await RunInTransactionAsync([item]);
                item.Complete();
            }
            catch (Exception e)
            {
                item.Fail(e);
            }
        }
    }

    // GroupBy keeps the order in which each kind first appears.
    private Task<int> RunInTransactionAsync(IReadOnlyList<IQueuedWrite> writes) =>
        RunAloneAsync(async (c, t) =>
        {
            foreach (var kind in writes.GroupBy(w => w.Kind ?? w)) await kind.First().RunAsync(c, t, [.. kind]);
            return 0;
        });

    /// <summary>
    /// Runs <paramref name="write"/> in a transaction of its own on a connection of its own, outside the
    /// turns (for a writer the database need not queue: the scheduler on PostgreSQL). A connection whose
    /// transaction failed is recovered before it goes back to the pool, as in the group commit.
    /// </summary>
    public async Task<T> RunAloneAsync<T>(Func<DbConnection, DbTransaction, Task<T>> write)
    {
        // Not cancellable: a write that started commits or rolls back, whoever still waits for it.
        await using var c = await _open(CancellationToken.None);
        try
        {
            await using var t = await c.BeginTransactionAsync();
            var result = await write(c, t);
            await t.CommitAsync();
            return result;
        }
        catch
        {
            // The transaction is rolled back by now; the connection is still this write's.
            _recover(c);
            throw;
        }
    }

    private interface IQueuedWrite
    {
        /// <summary>Writes that share a kind are run together; null: alone.</summary>
        object? Kind { get; }
        /// <summary>Runs <paramref name="all"/> (this write and others of its kind).</summary>
        Task RunAsync(DbConnection c, DbTransaction t, IReadOnlyList<IQueuedWrite> all);
        void Complete();
        void Fail(Exception e);
    }

    private sealed class QueuedWrite<T>(Func<DbConnection, DbTransaction, Task<T>> write) : IQueuedWrite
    {
        private T _result = default!;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object? Kind => null;

        public async Task RunAsync(DbConnection c, DbTransaction t, IReadOnlyList<IQueuedWrite> all) => _result = await write(c, t);

        public void Complete() => Done.TrySetResult(_result);

        public void Fail(Exception e) => Done.TrySetException(e);
    }

    private sealed class GroupedWrite<TItem, TResult>(TItem item, Func<DbConnection, DbTransaction, IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> writeAll) : IQueuedWrite
    {
        private TResult _result = default!;

        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object? Kind => writeAll;

        public async Task RunAsync(DbConnection c, DbTransaction t, IReadOnlyList<IQueuedWrite> all)
        {
            var members = all.Cast<GroupedWrite<TItem, TResult>>().ToList();
            var results = await writeAll(c, t, [.. members.Select(m => m.Item)]);
            for (var i = 0; i < members.Count; i++) members[i]._result = results[i];
        }

        private TItem Item => item;

        public void Complete() => Done.TrySetResult(_result);

        public void Fail(Exception e) => Done.TrySetException(e);
    }
}
