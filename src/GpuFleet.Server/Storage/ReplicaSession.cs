namespace GpuFleet.Server.Storage;

/// <summary>
/// A replica's identity in the scheduler lease, as the database can check it: <see cref="Liveness"/>
/// is recorded with the lease, and another replica asks the dialect whether its holder still lives
/// (<see cref="StoreDialect.IsAlive"/>). A process that dies is then replaced at once; one that is
/// alive but silent (frozen, partitioned) only when its lease expires.
/// </summary>
public abstract class ReplicaSession : IDisposable
{
    /// <summary>What identifies this replica's process or session, recorded with the lease it takes.</summary>
    public abstract string Liveness { get; }

    /// <summary>Whether the session still works (false once the database dropped it; a new one is then opened).</summary>
    public virtual bool Usable => true;

    /// <summary>Ends the session.</summary>
    public virtual void Dispose()
    {
    }
}
