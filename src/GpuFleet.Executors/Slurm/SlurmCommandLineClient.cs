using System.Globalization;

namespace GpuFleet.Executors.Slurm;

/// <summary>Slurm through its command-line tools: <c>sbatch</c>, <c>squeue</c>, <c>sinfo</c>, <c>sacct</c>, <c>scancel</c>.</summary>
internal sealed class SlurmCommandLineClient(SlurmExecutorOptions options, ISlurmTools tools) : ISlurmClient
{
    public async Task<IReadOnlyList<string>> FindLiveRunsAsync(string name, CancellationToken cancel)
    {
        // squeue's default states are the live ones (pending, running, completing...), not finished ones.
        var result = await QueryAsync("squeue", [.. Scope(), "-h", "-n", name, "-o", "%i"], cancel).ConfigureAwait(false);
        return SlurmOutput.ParseIds(result.Output);
    }

    public async Task<string> SubmitAsync(SlurmSubmission submission, CancellationToken cancel)
    {
        var result = await RunAsync("sbatch", SbatchArguments(submission), cancel).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new ExecutorRejectedException($"Slurm refused {submission.Name}: {SlurmOutput.Message(result)}");
        // Accepted but no id printed: whether a job exists is unknown, and the next launch looks it up by name.
        return SlurmOutput.ParseSubmitted(result.Output)
            ?? throw new ExecutorUnreachableException($"sbatch printed no job id for {submission.Name}: '{result.Output.Trim()}'");
    }

    public async Task<IReadOnlyList<SlurmJob>> JobsAsync(CancellationToken cancel)
    {
        var result = await QueryAsync("squeue", [.. Scope(), "-h", "--states=all", "-O", SlurmOutput.QueueFormat], cancel).ConfigureAwait(false);
        return Read("squeue", () => SlurmOutput.ParseQueue(result.Output));
    }

    public async Task<SlurmAccounting> AccountingAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel)
    {
        // -X: allocations only, not steps; with -j, sacct looks back to the epoch, not to midnight.
        var result = await RunAsync("sacct",
            ["-n", "-P", "-X", "--allusers", "-j", string.Join(',', runIds), "-o", SlurmOutput.AccountingFormat], cancel).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            var message = SlurmOutput.Message(result);
            if (message.Contains("accounting storage is disabled", StringComparison.OrdinalIgnoreCase)) return new SlurmAccounting(false, message, []);
            throw new ExecutorUnreachableException($"sacct: {message}");
        }
        return new SlurmAccounting(true, null, Read("sacct", () => SlurmOutput.ParseAccounting(result.Output)));
    }

    public async Task<IReadOnlyList<SlurmNode>> NodesAsync(CancellationToken cancel)
    {
        var scope = options.Partition is { Length: > 0 } p ? (string[])["-p", p] : ["-a"];
        var result = await QueryAsync("sinfo", [.. scope, "-h", "-N", "-O", SlurmOutput.NodeFormat], cancel).ConfigureAwait(false);
        return Read("sinfo", () => SlurmOutput.ParseNodes(result.Output));
    }

    public Task CancelAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel) =>
        ScancelAsync([.. runIds], runIds, cancel);

    public Task SignalAsync(IReadOnlyCollection<string> runIds, string signal, CancellationToken cancel) =>
        // --full: the batch script and all its processes, not only job steps (a wrapped command has none).
        ScancelAsync(["--signal=" + signal, "--full", .. runIds], runIds, cancel);

    /// <summary>sbatch's arguments for <paramref name="s"/>.</summary>
    public IReadOnlyList<string> SbatchArguments(SlurmSubmission s)
    {
        var args = new List<string> { "--parsable", "-J", s.Name, "--comment=" + s.Comment, "-o", s.Output };
        // Slurm would otherwise requeue a batch job whose node fails and run it again by itself: GpuFleet
        // decides where (and whether) a job runs again.
        args.Add("--no-requeue");
        if (s.Output != "/dev/null") args.Add("--open-mode=append");
        // The site's own options come before the placement's, so that the placement wins where both speak.
        args.AddRange(options.ExtraSbatchArguments ?? []);
        for (var i = 0; i < s.Components.Count; i++)
        {
            var c = s.Components[i];
            // Components of a heterogeneous job are separated by ':'; each takes its own partition,
            // account, limit, nodes and GPUs.
            if (i > 0) args.Add(":");
            if (options.Partition is { Length: > 0 } partition) args.Add("--partition=" + partition);
            if (s.Account is { } account) args.Add("--account=" + account);
            args.Add("--time=" + s.TimeLimitMinutes.ToString(CultureInfo.InvariantCulture));
            args.Add("--nodelist=" + Core.Fleets.HostList.Compress(c.Nodes));
            args.Add("--nodes=" + c.Nodes.Count.ToString(CultureInfo.InvariantCulture));
            if (c.GresText("") is { } gres) args.Add("--gres=" + gres);
            if (c.CpusPerGpu is { } cpusPerGpu) args.Add("--cpus-per-gpu=" + cpusPerGpu.ToString(CultureInfo.InvariantCulture));
            if (c.MemoryMbPerGpu is { } memPerGpu) args.Add("--mem-per-gpu=" + SlurmComponent.Megabytes(memPerGpu));
            // A batch job runs one task per node: its CPU cores are that task's.
            if (c.CpusPerNode is { } cpusPerNode) args.Add("--cpus-per-task=" + cpusPerNode.ToString(CultureInfo.InvariantCulture));
            if (c.MemoryMbPerNode is { } memPerNode) args.Add("--mem=" + SlurmComponent.Megabytes(memPerNode));
            if (s.IsHeterogeneous) args.Add("--nice=" + SlurmSubmission.HeterogeneousNice.ToString(CultureInfo.InvariantCulture));
        }
        args.Add("--wrap");
        args.Add(s.Script);
        return args;
    }

    private string[] Scope() => options.Partition is { Length: > 0 } p ? ["-a", "-p", p] : ["-a"];

    // scancel prints an error per job it could not signal; those that are over, unknown or not yet
    // running are what "nothing when it does not run here" means.
    private async Task ScancelAsync(IReadOnlyList<string> args, IReadOnlyCollection<string> runIds, CancellationToken cancel)
    {
        if (runIds.Count == 0) return;
        var result = await RunAsync("scancel", args, cancel).ConfigureAwait(false);
        if (result.ExitCode == 0) return;
        var problems = result.Error.Split('\n')
            .Where(l => l.Trim().Length > 0 && !SlurmOutput.IsNotRunning(l))
            .ToList();
        if (problems.Count > 0) throw new ExecutorRejectedException($"scancel: {SlurmOutput.Message(result with { Error = string.Join('\n', problems) })}");
    }

    // A query that fails for any reason leaves the executor unable to see the cluster.
    private async Task<SlurmToolResult> QueryAsync(string tool, IReadOnlyList<string> args, CancellationToken cancel)
    {
        var result = await RunAsync(tool, args, cancel).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new ExecutorUnreachableException($"{tool}: {SlurmOutput.Message(result)}");
        return result;
    }

    private async Task<SlurmToolResult> RunAsync(string tool, IReadOnlyList<string> args, CancellationToken cancel)
    {
        var result = await tools.RunAsync(tool, args, cancel).ConfigureAwait(false);
        if (result.ExitCode != 0 && SlurmOutput.IsUnreachable(result.Error + "\n" + result.Output))
            throw new ExecutorUnreachableException($"{tool}: {SlurmOutput.Message(result)}");
        return result;
    }

    private static T Read<T>(string tool, Func<T> parse)
    {
        try { return parse(); }
        catch (FormatException e) { throw new ExecutorUnreachableException($"{tool} printed what GpuFleet cannot read: {e.Message}", e); }
    }
}
