using System.Collections.Concurrent;
using System.Data.Common;

namespace GpuFleet.Server.Storage;

/// <summary>
/// Group commit: writes queue up, and whoever holds the write turn runs every queued write in one
/// transaction (one log sync for the lot). Each writer is answered only after that commit, so an
/// answer still means "on disk". If the shared transaction fails, each write is retried alone, so
/// that one bad write fails only its own caller.
/// </summary>
internal sealed class GroupCommit(Func<DbConnection> open)
{
    private const int MaxBatch = 1_000;
    // Writers queue here rather than in the database's busy handler, whose sleeps would set the tail latency.
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly ConcurrentQueue<IQueuedWrite> _queue = new();

    /// <summary>Runs <paramref name="write"/> in a transaction, possibly shared with other writes queued at the same moment.</summary>
    public async Task<T> RunAsync<T>(Func<DbConnection, DbTransaction, T> write)
    {
        var item = new QueuedWrite<T>(write);
        _queue.Enqueue(item);
        // Waiting asynchronously keeps 64 waiting clients from holding 64 thread-pool threads.
        await _turn.WaitAsync();
        try
        {
            if (!item.Done.Task.IsCompleted) CommitQueued();
        }
        finally
        {
            _turn.Release();
        }
        return await item.Done.Task;
    }

    /// <summary><see cref="RunAsync"/>, waited for (the scheduling loop's own thread).</summary>
    public T Run<T>(Func<DbConnection, DbTransaction, T> write) => RunAsync(write).GetAwaiter().GetResult();

    private void CommitQueued()
    {
        var batch = new List<IQueuedWrite>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next)) batch.Add(next);
        if (batch.Count == 0) return;
        try
        {
            using var c = open();
            using (var t = c.BeginTransaction())
            {
                foreach (var item in batch) item.Run(c, t);
                t.Commit();
            }
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
                using var c = open();
                using var t = c.BeginTransaction();
                item.Run(c, t);
                t.Commit();
                item.Complete();
            }
            catch (Exception e)
            {
                item.Fail(e);
            }
        }
    }

    private interface IQueuedWrite
    {
        void Run(DbConnection c, DbTransaction t);
        void Complete();
        void Fail(Exception e);
    }

    private sealed class QueuedWrite<T>(Func<DbConnection, DbTransaction, T> write) : IQueuedWrite
    {
        private T _result = default!;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Run(DbConnection c, DbTransaction t) => _result = write(c, t);

        public void Complete() => Done.TrySetResult(_result);

        public void Fail(Exception e) => Done.TrySetException(e);
    }
}
