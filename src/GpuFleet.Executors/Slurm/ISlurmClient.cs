namespace GpuFleet.Executors.Slurm;

/// <summary>
/// The few things <see cref="SlurmExecutor"/> asks of Slurm, whatever carries them: the command-line
/// tools (<see cref="SlurmCommandLineClient"/>) or slurmrestd's API (<see cref="SlurmRestClient"/>). Each
/// call is one round trip for all the jobs or nodes it concerns (slurmrestd: a cancel or signal is one per
/// run). Every call throws <see cref="ExecutorUnreachableException"/> when the controller cannot be reached.
/// </summary>
internal interface ISlurmClient
{
    /// <summary>Ids of the runs named <paramref name="name"/> that are pending or running.</summary>
    Task<IReadOnlyList<string>> FindLiveRunsAsync(string name, CancellationToken cancel);

    /// <summary>Submits a batch job and returns its id.</summary>
    /// <exception cref="ExecutorRejectedException">Slurm refused it.</exception>
    Task<string> SubmitAsync(SlurmSubmission submission, CancellationToken cancel);

    /// <summary>Every job the controller knows, in any state (finished ones until <c>MinJobAge</c> passes).</summary>
    Task<IReadOnlyList<SlurmJob>> JobsAsync(CancellationToken cancel);

    /// <summary>Accounting's records of runs the controller no longer knows.</summary>
    Task<SlurmAccounting> AccountingAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel);

    /// <summary>Every node, once.</summary>
    Task<IReadOnlyList<SlurmNode>> NodesAsync(CancellationToken cancel);

    /// <summary>Cancels runs; nothing for those already over or unknown.</summary>
    Task CancelAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel);

    /// <summary>Sends <paramref name="signal"/> (<c>USR1</c>, <c>TERM</c>) to every process of running runs; nothing for those not running.</summary>
    Task SignalAsync(IReadOnlyCollection<string> runIds, string signal, CancellationToken cancel);
}
