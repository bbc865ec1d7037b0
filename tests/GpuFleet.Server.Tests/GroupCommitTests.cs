using System.Data.Common;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>One write the database refuses fails only its own caller, on the connection it shared too.</summary>
[Trait("Category", "Server")]
[Trait("Category", "Postgres")]
public sealed class GroupCommitTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-25T00:00:00Z");
    private static readonly NewJob Good = new("j", "a", 1, [], 600, 0, null, null, null);
    // PostgreSQL refuses a NUL in text (SQLite stores it); the store is used directly, past the API's validation.
    private static readonly NewJob Refused = Good with { Name = "a\0b" };

    [Fact]
    public async Task A_row_postgres_refuses_fails_alone_and_leaves_no_broken_connection_behind()
    {
        // One pooled connection, so that every write after a refused one runs on the connection it failed on.
        using var store = new JobStore(RunningServer.NewDatabase(Backend.Postgres) + ";Maximum Pool Size=1");
        // Refused rows alone, enough of them that one is the first run of the insert the driver prepares on the connection.
        for (var i = 0; i < 10; i++) await Assert.ThrowsAnyAsync<DbException>(() => store.SubmitAsync(Refused, null, Now));
        var first = (await store.SubmitAsync(Good, null, Now)).Job!;
        Assert.Equal(JobState.Pending, (await store.GetAsync(first.Id))!.State);
        // Then good and refused rows together, group-committed in shared transactions.
        var writes = Enumerable.Range(0, 60).Select(i => (Good: i % 4 != 0, Task: Task.Run(() => store.SubmitAsync(i % 4 != 0 ? Good : Refused, null, Now)))).ToList();
        try
        {
            await Task.WhenAll(writes.Select(w => w.Task));
        }
        catch (DbException)
        {
            // The refused ones; each write is checked below.
        }
        Assert.All(writes, w => Assert.Equal(w.Good ? TaskStatus.RanToCompletion : TaskStatus.Faulted, w.Task.Status));
        Assert.Equal(46, (await store.ListAsync(null, null, 0, 1000)).Count);
    }
}
