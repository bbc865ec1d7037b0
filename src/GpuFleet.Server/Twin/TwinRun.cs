using GpuFleet.Server.Security;

namespace GpuFleet.Server.Twin;

/// <summary>
/// One twin run: who started it, with what, and how far it is. Its <see cref="Status"/> is replaced whole
/// by the queue (under its lock) and read without one; the <see cref="Result"/> is set before the status
/// says it succeeded, so a reader that sees "succeeded" finds the result.
/// </summary>
public sealed class TwinRun
{
    private TwinRunStatus _status;
    private TwinResult? _result;

    internal TwinRun(string id, Caller owner, TwinRequest request, DateTimeOffset submittedAt)
    {
        Id = id;
        Owner = owner;
        Request = request;
        SubmittedAt = submittedAt;
        _status = new TwinRunStatus(TwinRunState.Queued, 0, "waiting for its turn");
    }

    /// <summary>Its id: 16 random hexadecimal digits (an id says nothing of other runs).</summary>
    public string Id { get; }

    /// <summary>The token that started it (its id, role and tenant).</summary>
    public Caller Owner { get; }

    /// <summary>Its inputs.</summary>
    public TwinRequest Request { get; }

    /// <summary>When it was queued.</summary>
    public DateTimeOffset SubmittedAt { get; }

    /// <summary>Its progress now.</summary>
    public TwinRunStatus Status => Volatile.Read(ref _status);

    /// <summary>Its report and charts once it has succeeded; null before, and after a failure or cancellation.</summary>
    public TwinResult? Result => Volatile.Read(ref _result);

    /// <summary>Fires when a user cancels it (or the server stops).</summary>
    internal CancellationTokenSource Cancellation { get; } = new();

    /// <summary>
    /// Whether <paramref name="caller"/> may see it: an admin sees every run; anyone else the runs of their
    /// own token and of their tenant's other tokens (as a tenant's jobs are its members'), never another tenant's.
    /// </summary>
    public bool VisibleTo(Caller caller) =>
        caller.Role == Role.Admin || caller.TokenId == Owner.TokenId || (Owner.Tenant is not null && caller.Tenant == Owner.Tenant);

    internal void Set(TwinRunStatus status) => Volatile.Write(ref _status, status);

    internal void Succeed(TwinResult result, TwinRunStatus status)
    {
        Volatile.Write(ref _result, result);
        Volatile.Write(ref _status, status);
    }
}
