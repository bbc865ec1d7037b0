using System.Net;
using Npgsql;

namespace GpuFleet.Server.Tests;

/// <summary>Tests that change the process's thread pool: run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadPoolCollection
{
    public const string Name = "thread pool";
}

/// <summary>A request waiting for the database holds no thread: many more requests than threads can wait at once.</summary>
[Trait("Category", "Server")]
[Trait("Category", "Postgres")]
[Collection(ThreadPoolCollection.Name)]
public sealed class RequestThreadTests
{
    [Fact]
    public async Task More_requests_than_pool_threads_wait_for_the_database_at_once()
    {
        // Few threads (a few more than one per core, the fewest the pool allows: the test runner holds
        // some of them), and well more requests than that.
        var threads = Environment.ProcessorCount + 8;
        var requests = threads + 16;
        var db = RunningServer.NewDatabase(Backend.Postgres);
        await using var server = await RunningServer.StartAsync(Backend.Postgres, database: $"{db};Maximum Pool Size={requests + 20}");
        await server.PostJobAsync(new { tenant = "a", gpus = 1, timeLimitSeconds = 60 });

        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        await using var holder = new NpgsqlConnection(db);
        await holder.OpenAsync();
        var lockTaken = await holder.BeginTransactionAsync();
        // Every read of the jobs table waits (as it would for a slow disk or a long lock) until the test lets go.
        await using (var cmd = new NpgsqlCommand("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE;", holder, lockTaken)) await cmd.ExecuteNonQueryAsync();
        Task<HttpResponseMessage>[] calls;
        bool allWaited;
        try
        {
            Assert.True(ThreadPool.SetMinThreads(threads, threads));
            Assert.True(ThreadPool.SetMaxThreads(threads, threads));
            calls = [.. Enumerable.Range(0, requests).Select(_ => server.Client.GetAsync("/api/v1/jobs"))];
            // Watched, and let go, from a thread of its own: with a request path that blocks its threads,
            // the pool would have none left to run the test's own code. The bound only keeps such a
            // server from hanging the test.
            allWaited = await Task.Factory.StartNew(() =>
            {
                try
                {
                    return WaitForLockWaiters(db, requests, TimeSpan.FromSeconds(60));
                }
                finally
                {
                    lockTaken.Rollback();
                    Restore();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            Restore();
        }

        void Restore()
        {
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }
        var answers = await Task.WhenAll(calls);
        Assert.True(allWaited, $"{requests} requests did not all wait for the database at once with {threads} pool threads");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        foreach (var a in answers) a.Dispose();
    }

    // Whether at least `count` sessions of the database wait for a lock at once, before `bound` passes.
    private static bool WaitForLockWaiters(string db, int count, TimeSpan bound)
    {
        using var c = new NpgsqlConnection(db);
        c.Open();
        var until = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < until)
        {
            // A statement of its own each time: the activity view is read afresh per transaction.
            using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock';", c);
            if (Convert.ToInt32(cmd.ExecuteScalar()) >= count) return true;
            Thread.Sleep(50);
        }
        return false;
    }
}
