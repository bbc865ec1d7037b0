namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// Switches a running slurmctld between scheduler settings for the bench's variants: it rewrites the
/// <c>SchedulerParameters</c> line of the cluster's own <c>slurm.conf</c> (none: Slurm's defaults) and runs
/// <c>scontrol reconfigure</c>; <see cref="RestoreAsync"/> puts the file back as it was and reconfigures once more.
/// </summary>
/// <remarks>
/// slurmctld reads only the file it was started with, and no <c>scontrol</c> command changes
/// SchedulerParameters, so the file itself must change. Every rewrite is atomic (a new file renamed over the
/// old one), so that a Slurm tool reading it meanwhile gets the whole of one or the other. The first switch
/// keeps the original beside it as <c>slurm.conf.gpufleet-bench</c> until the restore, so that a bench that was
/// killed can be undone by hand.
/// <para>Example: a file with <c>SchedulerParameters=bf_interval=5</c> becomes, for Slurm's defaults, the same
/// file without that line; for the tuned variant, the same with <c>SchedulerParameters=default_queue_depth=1000,...</c>
/// where the line was (or after <c>SchedulerType</c>).</para>
/// </remarks>
internal sealed class SchedulerParametersSwitch(SlurmCluster cluster)
{
    private string? _original;

    /// <summary>Where the original is kept while the bench runs.</summary>
    public string Backup => cluster.Conf + ".gpufleet-bench";

    /// <summary>
    /// Makes slurmctld run with <paramref name="parameters"/> (null: none, Slurm's defaults) and checks that it does.
    /// </summary>
    public async Task ApplyAsync(string? parameters, CancellationToken cancel)
    {
        if (_original is null)
        {
            try
            {
                _original = await File.ReadAllTextAsync(cluster.Conf, cancel);
                await File.WriteAllTextAsync(Backup, _original, cancel);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"cannot rewrite {cluster.Conf} to switch slurmctld's SchedulerParameters ({e.Message}): run the bench as the file's owner, " +
                    "or leave out the Slurm-alone variants (--variants gpufleet)");
            }
        }
        await WriteAsync(WithParameters(_original, parameters), cancel);
        await cluster.RunAsync("scontrol", ["reconfigure"], cancel);
        var now = (await cluster.ConfigAsync(cancel)).GetValueOrDefault("SchedulerParameters", "(null)");
        if (parameters is null ? now != "(null)" : !Contains(now, parameters))
            throw new CliUsageException($"slurmctld did not take SchedulerParameters={parameters ?? "(none)"} after scontrol reconfigure: it reports {now}");
    }

    /// <summary>Puts the original file back and has slurmctld read it; nothing when nothing was switched.</summary>
    public async Task RestoreAsync()
    {
        if (_original is null) return;
        await WriteAsync(_original, CancellationToken.None);
        await cluster.RunAsync("scontrol", ["reconfigure"], CancellationToken.None);
        File.Delete(Backup);
        _original = null;
    }

    /// <summary>The file's text with its SchedulerParameters line replaced by <paramref name="parameters"/>, or removed when null.</summary>
    internal static string WithParameters(string conf, string? parameters)
    {
        var newline = conf.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var lines = conf.Split(newline).ToList();
        static bool Is(string line, string key) => line.TrimStart().StartsWith(key + "=", StringComparison.OrdinalIgnoreCase);
        var at = lines.FindIndex(l => Is(l, "SchedulerParameters"));
        lines.RemoveAll(l => Is(l, "SchedulerParameters"));
        if (parameters is not null)
        {
            if (at < 0) at = lines.FindIndex(l => Is(l, "SchedulerType")) + 1;
            if (at <= 0) at = lines.Count > 0 && lines[^1].Length == 0 ? lines.Count - 1 : lines.Count;
            lines.Insert(at, "SchedulerParameters=" + parameters);
        }
        return string.Join(newline, lines);
    }

    // slurmctld reports every parameter it was given, in its own order and with some of its own added.
    private static bool Contains(string reported, string wanted)
    {
        var have = reported.Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return wanted.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).All(have.Contains);
    }

    private async Task WriteAsync(string text, CancellationToken cancel)
    {
        var temp = cluster.Conf + ".gpufleet-bench-new";
        await File.WriteAllTextAsync(temp, text, cancel);
        // Slurm runs on Unix only; the mode of a new file (the umask's) serves where the old one's cannot be copied.
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                File.SetUnixFileMode(temp, File.GetUnixFileMode(cluster.Conf));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        File.Move(temp, cluster.Conf, overwrite: true);
    }
}
