namespace GpuFleet.Server.Storage;

/// <summary>
/// A scheduler write was refused because another replica has led since this one became leader (a
/// higher lease epoch): the write is rolled back, and this replica stops scheduling.
/// </summary>
public sealed class LeaseLostException(long epoch, long current)
    : Exception($"scheduler lease lost: this replica leads epoch {epoch}, the database is at epoch {current}")
{
    /// <summary>The epoch this replica held.</summary>
    public long Epoch { get; } = epoch;
    /// <summary>The epoch in the database.</summary>
    public long Current { get; } = current;
}
