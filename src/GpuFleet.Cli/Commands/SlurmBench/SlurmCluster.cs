using System.Diagnostics;
using System.Globalization;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>The Slurm tools run against one cluster (its <c>slurm.conf</c> passed as <c>SLURM_CONF</c>), as the bench needs them.</summary>
internal sealed class SlurmCluster(string conf)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The cluster's slurm.conf.</summary>
    public string Conf { get; } = conf;

    /// <summary>Runs a tool and returns what it printed; a tool that fails or hangs is an error naming it.</summary>
    public async Task<string> RunAsync(string tool, IEnumerable<string> args, CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["SLURM_CONF"] = Conf;
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CliUsageException($"cannot run {tool}: {e.Message} (are Slurm's client tools installed and on PATH?)");
        }
        using (p)
        {
            var output = p.StandardOutput.ReadToEndAsync(cancel);
            var error = p.StandardError.ReadToEndAsync(cancel);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(ToolTimeout);
            try
            {
                await p.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                cancel.ThrowIfCancellationRequested();
                throw new CliUsageException($"{tool} {string.Join(' ', psi.ArgumentList)} did not answer within {ToolTimeout.TotalSeconds:F0} s");
            }
            if (p.ExitCode != 0)
                throw new CliUsageException($"{tool} {string.Join(' ', psi.ArgumentList)} failed ({p.ExitCode}): {(await error).Trim()}");
            return await output;
        }
    }

    /// <summary><c>scontrol show config</c> as key → value.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ConfigAsync(CancellationToken cancel)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (await RunAsync("scontrol", ["show", "config"], cancel)).Split('\n'))
        {
            var eq = line.IndexOf(" = ", StringComparison.Ordinal);
            if (eq > 0) config.TryAdd(line[..eq].Trim(), line[(eq + 3)..].Trim());
        }
        return config;
    }

    /// <summary>Each node of the partition (or of the cluster) with its GPUs (GRES <c>gpu</c>) and state.</summary>
    public async Task<IReadOnlyList<(string Name, int Gpus, string State)>> NodesAsync(string? partition, CancellationToken cancel)
    {
        List<string> args = ["-h", "-N", "-o", "%N|%G|%t"];
        if (partition is not null) args.AddRange(["-p", partition]);
        var nodes = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
        foreach (var line in (await RunAsync("sinfo", args, cancel)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('|');
            if (f.Length < 3) continue;
            nodes.TryAdd(f[0].Trim(), (GpusOf(f[1]), f[2].Trim()));
        }
        return [.. nodes.Select(kv => (kv.Key, kv.Value.Item1, kv.Value.Item2))];
    }

    // "gpu:8", "gpu:h100:8(S:0-1)", "gpu:8,shard:4" → 8; none → 0.
    internal static int GpusOf(string gres)
    {
        var total = 0;
        foreach (var item in gres.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split('(')[0].Split(':');
            if (parts[0] == "gpu" && parts.Length >= 2 && int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) total += n;
        }
        return total;
    }

    /// <summary>Every job Slurm lists now (pending, running, or finished within MinJobAge): id, name, state and nodes.</summary>
    public async Task<IReadOnlyList<(string Id, string Name, string State, string Nodes)>> QueueAsync(CancellationToken cancel) =>
        [.. (await RunAsync("squeue", ["-h", "-a", "--states=all", "-o", "%i|%j|%T|%N"], cancel))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).Where(f => f.Length >= 4)
            .Select(f => (f[0].Trim(), f[1].Trim(), f[2].Trim(), f[3].Trim()))];

    /// <summary>Cancels every job not yet over whose name <paramref name="ours"/> accepts; returns how many.</summary>
    public async Task<int> CancelAsync(Func<string, bool> ours, CancellationToken cancel)
    {
        var ids = (await QueueAsync(cancel)).Where(j => ours(j.Name) && !IsOver(j.State)).Select(j => j.Id.Split('+')[0]).Distinct().ToList();
        if (ids.Count > 0) await RunAsync("scancel", ids, cancel);
        return ids.Count;
    }

    /// <summary>Whether no job of <paramref name="ours"/> is pending or running, and no GPU of <paramref name="nodes"/> is held by anyone.</summary>
    public async Task<(bool Idle, string Busy)> IdleAsync(Func<string, bool> ours, IReadOnlyCollection<string> nodes, CancellationToken cancel)
    {
        var queue = await QueueAsync(cancel);
        var mine = queue.Where(j => ours(j.Name) && !IsOver(j.State)).ToList();
        if (mine.Count > 0) return (false, $"{mine.Count} of the bench's jobs still in Slurm");
        var wanted = new HashSet<string>(nodes, StringComparer.Ordinal);
        var others = queue.Where(j => j.State is "RUNNING" or "COMPLETING" or "CONFIGURING" && HostList.Expand(j.Nodes).Any(wanted.Contains)).ToList();
        return others.Count == 0 ? (true, "") : (false, $"{others.Count} other jobs on the bench's nodes ({string.Join(", ", others.Take(5).Select(j => $"{j.Id} {j.Name}"))})");
    }

    /// <summary>States in which a job is over.</summary>
    public static bool IsOver(string state) => state is "COMPLETED" or "FAILED" or "CANCELLED" or "TIMEOUT" or "NODE_FAIL" or "OUT_OF_MEMORY"
        or "BOOT_FAIL" or "DEADLINE" or "PREEMPTED" or "REVOKED" or "SPECIAL_EXIT";
}
