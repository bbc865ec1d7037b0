namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>One job's run in one variant, for <c>--csv</c>: Slurm's times, and GpuFleet's where it placed the job.</summary>
/// <param name="Index">The job's position in the set.</param>
/// <param name="Submit">Its submission (whole seconds).</param>
/// <param name="Start">Its start (Slurm's, or the twin's); null when unknown.</param>
/// <param name="End">Its end; null when unknown.</param>
/// <param name="Placed">When GpuFleet placed it (null without GpuFleet).</param>
/// <param name="Learned">When GpuFleet's scheduler learned of its end (null without GpuFleet).</param>
/// <param name="Nodes">Where it ran.</param>
internal sealed record JobTiming(int Index, DateTimeOffset Submit, DateTimeOffset? Start, DateTimeOffset? End, DateTimeOffset? Placed, DateTimeOffset? Learned, string Nodes);
