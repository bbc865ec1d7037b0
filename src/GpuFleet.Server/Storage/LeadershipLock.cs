namespace GpuFleet.Server.Storage;

/// <summary>
/// The right to run the scheduler, held by one replica at a time. Dies with its holder: a killed
/// process drops its database session (PostgreSQL) or file lock (SQLite), and another replica's next
/// attempt succeeds.
/// </summary>
public abstract class LeadershipLock : IDisposable
{
    /// <summary>Whether the lock is still held: false once its session broke. Checked every cycle.</summary>
    public abstract bool StillHeld();

    /// <summary>Releases the lock.</summary>
    public abstract void Dispose();
}
