namespace GpuFleet.Executors.Local;

/// <summary>How a <see cref="LocalExecutor"/> runs jobs on this machine.</summary>
/// <param name="LogDirectory">
/// Where each job's output goes, as <c>&lt;id&gt;.log</c> (created when missing), with its exit status beside it
/// until reported. It also names the executor's jobs: one started on it finds the jobs an earlier one started there,
/// so two executors at a time must not share it.
/// </param>
public sealed record LocalExecutorOptions(string LogDirectory)
{
    /// <summary>GPUs this machine offers when <c>nvidia-smi</c> finds none (missing, failing): for trying GpuFleet on a machine without GPUs.</summary>
    public int VirtualGpus { get; init; }

    /// <summary>This machine's node name in placements; the host name by default.</summary>
    public string NodeName { get; init; } = Environment.MachineName;

    /// <summary>The <c>nvidia-smi</c> program (a name looked up in <c>PATH</c>, or a path).</summary>
    public string NvidiaSmiPath { get; init; } = "nvidia-smi";

    /// <summary>What a job without a command runs; <c>{seconds}</c> is its run time (or its time limit when it has none).</summary>
    public string PlaceholderCommand { get; init; } = "sleep {seconds}";

    /// <summary>How long a job's processes have after SIGTERM (cancel, time limit) before SIGKILL.</summary>
    public TimeSpan KillGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The GpuFleet installation whose jobs these are (<see cref="RunNames"/>): a run is named <c>gpufleet-&lt;installation&gt;-&lt;id&gt;</c>
    /// (its shell's <c>$0</c>), and a new executor takes up only its installation's runs. Null: <c>gpufleet-&lt;id&gt;</c>.
    /// </summary>
    public string? Installation { get; init; }

    /// <summary>How long <c>nvidia-smi</c> may take before it counts as failed (a wedged driver hangs it).</summary>
    public TimeSpan NvidiaSmiTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
