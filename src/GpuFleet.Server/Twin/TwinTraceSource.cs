namespace GpuFleet.Server.Twin;

/// <summary>Where a twin run's jobs come from.</summary>
public enum TwinTraceSource
{
    /// <summary>A sample trace shipped with the server (<c>traces/</c>).</summary>
    Sample,
    /// <summary>A trace file the user uploaded (any format <c>simulate</c> reads).</summary>
    Upload,
    /// <summary>A synthetic workload, as <c>gpufleet workload generate</c> makes it for the run's fleet (and tenant tree).</summary>
    Generate,
}
