namespace GpuFleet.Data.Workloads;

/// <summary>Jobs of one GPU count: their share of the component's jobs and their run-time quantiles.</summary>
/// <param name="Gpus">GPUs per job.</param>
/// <param name="Weight">Fraction of the component's jobs with this size.</param>
/// <param name="DurationQuantiles">Run time in seconds at p0, p5, ..., p100 (21 values, non-decreasing).</param>
public sealed record SizeClass(int Gpus, double Weight, double[] DurationQuantiles);
