namespace GpuFleet.Tests.Shared;

/// <summary>
/// A small Slurm of a test's own (nodes n01.., 8 GPUs each), for what would disturb the shared
/// <see cref="TestSlurm"/>: stopping its controller. Started with <c>scripts/slurm-local.sh</c> on ports
/// apart from the shared cluster's, removed on dispose.
/// </summary>
internal sealed class PrivateSlurm : IDisposable
{
    private static int _started;
    private readonly string _lab;
    private readonly int _port;

    private PrivateSlurm(string lab, int port)
    {
        _lab = lab;
        _port = port;
    }

    /// <summary>The cluster's slurm.conf.</summary>
    public string Conf => Path.Combine(_lab, "etc", "slurm.conf");

    /// <summary>Starts a cluster of <paramref name="nodes"/> nodes.</summary>
    public static PrivateSlurm Start(int nodes)
    {
        // Ports 10000-14999, a block of 20 per cluster: apart from the shared throwaway cluster's 20000-29999 and the
        // default one's 16817-17016, and below Linux's ephemeral ports (32768-60999), which any outgoing connection
        // may hold (30000-39999 once met a slurmd that could not bind a port a client had taken).
        var port = 10000 + (Environment.ProcessId * 7 + Interlocked.Increment(ref _started)) % 250 * 20;
        var cluster = new PrivateSlurm(Path.Combine(Path.GetTempPath(), $"gpufleet-private-slurm-{Guid.NewGuid():N}"), port);
        try
        {
            TestSlurm.RunScript("start", cluster._lab, port, rest: false, nodes: nodes);
        }
        catch
        {
            // A start that failed part-way (a node that did not come up) leaves daemons running that no Dispose would stop.
            cluster.Dispose();
            throw;
        }
        return cluster;
    }

    /// <summary>Stops slurmctld alone (its nodes keep running their jobs), as in an outage.</summary>
    public void StopController() => TestSlurm.RunScript("controller-stop", _lab, _port, rest: false);

    /// <summary>Starts slurmctld again, from its saved state, and waits until it answers.</summary>
    public void StartController() => TestSlurm.RunScript("controller-start", _lab, _port, rest: false);

    /// <summary>Runs a Slurm tool against this cluster and returns what it printed; throws when it fails.</summary>
    public string Tool(string tool, params string[] args) => TestSlurm.ToolOn(Conf, tool, args);

    public void Dispose() => TestSlurm.RunScript("stop", _lab, _port, rest: false, """bash "$0" stop && rm -rf "$LAB" """);
}
