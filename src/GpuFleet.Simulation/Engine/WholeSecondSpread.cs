namespace GpuFleet.Simulation.Engine;

/// <summary>
/// Whole seconds, one per event, that add up to a fractional mean on the twin's whole-second clock:
/// the k-th event gets ⌊k·mean⌋ − ⌊(k−1)·mean⌋ seconds.
/// <para>Example: a mean of 1.25 s gives 1, 1, 1, 2, 1, 1, 1, 2, ... (5 s over 4 events); 0.5 gives
/// 0, 1, 0, 1, ...; 2 gives 2 every time. The same sequence every run, so the twin stays deterministic.</para>
/// </summary>
internal sealed class WholeSecondSpread
{
    private readonly double _mean;
    private long _count;
    private long _given;

    public WholeSecondSpread(double mean)
    {
        if (!(mean >= 0) || !double.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(mean), mean, "must be 0 or more seconds");
        _mean = mean;
    }

    /// <summary>Whether every event gets 0 s.</summary>
    public bool IsZero => _mean == 0;

    /// <summary>The next event's seconds.</summary>
    public long Next()
    {
        if (_mean == 0) return 0;
        _count++;
        // A hair above the exact product, so that 0.1 × 10 counts as the 1 it is, not 0.9999999.
        var total = (long)Math.Floor(_count * _mean + 1e-9);
        var next = total - _given;
        _given = total;
        return next;
    }
}
