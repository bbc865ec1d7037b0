namespace GpuFleet.Executors.Slurm;

/// <summary>One error slurmrestd reports, in Slurm's words.</summary>
/// <param name="Number">Slurm's error number (<c>2017</c>: invalid job id); null when it gives none.</param>
/// <param name="Message">Slurm's message (<c>Invalid job id specified</c>), with slurmrestd's description when it adds one.</param>
internal sealed record SlurmRestError(int? Number, string Message);
