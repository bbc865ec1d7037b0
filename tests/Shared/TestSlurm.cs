using System.Diagnostics;

namespace GpuFleet.Tests.Shared;

/// <summary>
/// A real Slurm for tests (16 nodes n01..n16 × 8 GPUs, and slurmrestd). <c>.ci/run</c> starts one with
/// <c>scripts/slurm-local.sh</c> and passes its configuration in <c>SLURM_CONF</c>; without it, the first
/// test that needs one starts a throwaway cluster with that script (installing Debian's Slurm if missing)
/// on ports of its own and stops it when the test run ends.
/// </summary>
internal static class TestSlurm
{
    public const string Variable = "SLURM_CONF";
    private static readonly Lazy<string> Cluster = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The cluster's slurm.conf.</summary>
    public static string Conf => Cluster.Value;

    /// <summary>
    /// The cluster's slurmrestd, which scripts/slurm-local.sh starts when SLURMRESTD_PORT is set (as .ci/run
    /// and a throwaway cluster do): its URL and the file holding a token for root, both next to slurm.conf.
    /// </summary>
    public static (Uri Url, string TokenFile) Rest
    {
        get
        {
            var etc = Path.GetDirectoryName(Conf)!;
            var url = Path.Combine(etc, "slurmrestd.url");
            var token = Path.Combine(etc, "slurmrestd.token");
            if (!File.Exists(url) || !File.Exists(token))
                throw new InvalidOperationException($"the test Slurm ({Conf}) runs no slurmrestd: start it with SLURMRESTD_PORT set " +
                    "(LAB=... SLURMRESTD_PORT=... scripts/slurm-local.sh start), as .ci/run does");
            return (new Uri(File.ReadAllText(url).Trim()), token);
        }
    }

    /// <summary>Runs a Slurm tool against the cluster and returns what it printed; throws when it fails.</summary>
    public static string Tool(string tool, params string[] args) => ToolOn(Conf, tool, args);

    /// <summary>Runs a Slurm tool against the cluster of <paramref name="conf"/>; throws when it fails.</summary>
    internal static string ToolOn(string conf, string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[Variable] = conf;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {error}");
        return output.Result;
    }

    /// <summary>Each Slurm job named <paramref name="name"/> that Slurm still lists (running, or finished within MinJobAge): its state and nodes.</summary>
    public static List<(string State, string Nodes)> Runs(string name) =>
        [.. Tool("squeue", "-h", "-a", "--states=all", "-n", name, "-o", "%T|%N")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).Select(p => (p[0], p[1]))];

    /// <summary>Every job Slurm lists, one line each (id, name, state, reason, priority, nodes, GRES): what a failed wait shows.</summary>
    public static string Queue() => Tool("squeue", "-h", "-a", "-o", "%i %j %T %r %Q %N %b");

    /// <summary>
    /// Slurm's own completion record (jobcomp/filetxt, which <c>scripts/slurm-local.sh</c> configures) of
    /// each finished job named <paramref name="name"/>, one per component of a heterogeneous job: the Slurm job
    /// it belongs to (the heterogeneous job's leader, else its own id), its state and the start and end Slurm accounts.
    /// </summary>
    public static List<(string Run, string State, DateTimeOffset Start, DateTimeOffset End)> Completions(string name)
    {
        var file = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Conf))!, "log", "jobcomp.txt");
        if (!File.Exists(file)) return [];
        var found = new List<(string, string, DateTimeOffset, DateTimeOffset)>();
        foreach (var line in File.ReadLines(file))
        {
            // "JobId=7 UserId=root(0) ... Name=gpufleet-3 JobState=COMPLETED ... StartTime=2026-12-02T10:39:05 EndTime=...", local times.
            var fields = line.Split(' ').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).GroupBy(f => f[0]).ToDictionary(g => g.Key, g => g.First()[1]);
            if (fields.GetValueOrDefault("Name") != name) continue;
            var run = fields.GetValueOrDefault("HetJobId") is { Length: > 0 } het && het != "0" ? het : fields["JobId"];
            found.Add((run, fields["JobState"], DateTimeOffset.Parse(fields["StartTime"], System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(fields["EndTime"], System.Globalization.CultureInfo.InvariantCulture)));
        }
        return found;
    }

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given) return given;
        var lab = Path.Combine(Path.GetTempPath(), $"gpufleet-test-slurm-{Environment.ProcessId}");
        // Below the ephemeral ports, apart from the default cluster's 16817 and 17001-17016: slurmctld on
        // a multiple of 20, its nodes on the 16 ports after it, slurmrestd on the 18th.
        var port = 20000 + Environment.ProcessId % 500 * 20;
        // The cluster's directory goes in the same shell as the stop, which outlives the test host if it must. Asked
        // for before the start: a start that fails part-way (a node that did not come up) leaves daemons to stop too.
        DetachedStop.WhenThisProcessExits("""bash "$0" stop; rm -rf "$LAB" """, ScriptEnvironment(lab, port, rest: true, nodes: 16), ScriptPath);
        RunScript("start", lab, port, rest: true);
        return Path.Combine(lab, "etc", "slurm.conf");
    }

    private static string ScriptPath => Path.Combine(TestFiles.Root, "scripts", "slurm-local.sh");

    /// <summary>What <c>scripts/slurm-local.sh</c> is told about the cluster in <paramref name="lab"/>.</summary>
    private static Dictionary<string, string> ScriptEnvironment(string lab, int port, bool rest, int nodes)
    {
        var environment = new Dictionary<string, string>
        {
            ["LAB"] = lab,
            ["NODES"] = nodes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SLURM_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SLURMD_PORT_BASE"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (rest) environment["SLURMRESTD_PORT"] = (port + 18).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return environment;
    }

    /// <summary>Runs <c>scripts/slurm-local.sh VERB</c> for the cluster in <paramref name="lab"/> on ports from <paramref name="port"/>.</summary>
    internal static void RunScript(string verb, string lab, int port, bool rest, string? commandLine = null, int nodes = 16)
    {
        var script = ScriptPath;
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (commandLine is not null)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(commandLine);
        }
        psi.ArgumentList.Add(script);
        if (commandLine is null) psi.ArgumentList.Add(verb);
        foreach (var (name, value) in ScriptEnvironment(lab, port, rest, nodes)) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} {verb} failed ({p.ExitCode}): {output.Result}{error}. " +
                $"Start a Slurm with 'scripts/slurm-local.sh start' and set {Variable} to its slurm.conf to use a running cluster.");
    }
}
