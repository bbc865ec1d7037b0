namespace GpuFleet.Server.Storage;

/// <summary>What became of a submission.</summary>
public enum SubmitOutcome
{
    /// <summary>Stored now.</summary>
    Stored,
    /// <summary>A retry: its <c>Idempotency-Key</c> was used before for the same request, whose jobs are answered.</summary>
    Replayed,
    /// <summary>Refused: its <c>Idempotency-Key</c> was used before for another request (another body or another caller).</summary>
    KeyReused,
}
