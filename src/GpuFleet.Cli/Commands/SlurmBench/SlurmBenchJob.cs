using System.Globalization;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// One job of <c>gpufleet bench slurm</c>'s job set, the same in every variant: <see cref="Gpus"/> GPUs that
/// run <c>sleep <see cref="RuntimeSeconds"/></c> under a limit of <see cref="TimeLimitMinutes"/> whole minutes.
/// </summary>
/// <param name="Index">Position in the set (0-based): the order of submission and the end of the job's name.</param>
/// <param name="Gpus">GPUs of the gang.</param>
/// <param name="Nodes">Nodes Slurm alone is asked for (<c>-N</c>), each with <see cref="GpusPerNode"/> GPUs.</param>
/// <param name="RuntimeSeconds">How long it runs.</param>
/// <param name="TimeLimitMinutes">Its limit, in Slurm's whole minutes (GpuFleet gets the same in seconds).</param>
internal sealed record SlurmBenchJob(int Index, int Gpus, int Nodes, int RuntimeSeconds, int TimeLimitMinutes)
{
    /// <summary>GPUs on each node when Slurm alone places it (<c>--gres=gpu:N</c>).</summary>
    public int GpusPerNode => Gpus / Nodes;

    /// <summary>What it runs.</summary>
    public string Command => "sleep " + RuntimeSeconds.ToString(CultureInfo.InvariantCulture);
}
