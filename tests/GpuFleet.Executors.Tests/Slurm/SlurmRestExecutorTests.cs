using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>
/// The Slurm executor over slurmrestd sees what it sees over the command-line tools: the same events,
/// runs and inventory from each version's answers as from squeue and sinfo of the same cluster state.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SlurmRestExecutorTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1796209030);

    public static TheoryData<string> Versions => SlurmRestClientTests.Versions;

    private static SlurmExecutor OverTools()
    {
        static string Cli(string file) => File.ReadAllText(Path.Combine(FakeSlurmRest.Directory("v0.0.38"), file));
        var options = new SlurmExecutorOptions();
        var tools = new FakeSlurmTools((tool, args) => tool switch
        {
            "squeue" when args.Contains("-n") => FakeSlurmTools.Ok(),
            "squeue" => FakeSlurmTools.Ok(Cli("squeue-states.out")),
            "sinfo" => FakeSlurmTools.Ok(Cli("sinfo-nodes.out")),
            "sacct" => FakeSlurmTools.Error("Slurm accounting storage is disabled"),
            _ => FakeSlurmTools.Ok(),
        });
        return new SlurmExecutor(options, new SlurmCommandLineClient(options, tools), new FixedClock(Now));
    }

    private static SlurmExecutor OverRest(string version) =>
        new(new SlurmExecutorOptions(), FakeSlurmRest.Client(FakeSlurmRest.Cluster(version)), new FixedClock(Now));

    private static string Event(ExecutorEvent e) => $"{e.JobId} {e.Kind} {e.At.ToUnixTimeSeconds()} {e.ExitCode} {e.Detail} {string.Join(',', e.Nodes ?? [])}";

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Observations_and_inventory_are_those_of_the_tools(string version)
    {
        await using var tools = OverTools();
        await using var rest = OverRest(version);
        var byTools = await tools.ObserveAsync(default);
        var byRest = await rest.ObserveAsync(default);

        Assert.Equal(byTools.Events.Select(Event), byRest.Events.Select(Event));
        Assert.Equal(byTools.Runs.Select(r => $"{r.JobId} {r.ExternalId} {string.Join(',', r.Nodes)}"), byRest.Runs.Select(r => $"{r.JobId} {r.ExternalId} {string.Join(',', r.Nodes)}"));
        // The recorded sinfo has the four fields of before CPUs and memory were asked for; slurmrestd always gives them
        // (that cluster's nodes: 32 CPUs, RealMemory 1000 MB, under one GB).
        var restNodes = (await rest.InventoryAsync(default)).Nodes;
        Assert.Equal((await tools.InventoryAsync(default)).Nodes, restNodes.Select(n => n with { Cpus = 0, MemoryGb = 0 }));
        Assert.All(restNodes, n => Assert.Equal((32, 0), (n.Cpus, n.MemoryGb)));

        // What the events say: 902 ended with 3, 908 was killed by SIGUSR1, 907 runs on both its nodes.
        var byJob = byRest.Events.ToLookup(e => e.JobId);
        Assert.Equal(3, byJob[902].Last().ExitCode);
        Assert.Equal((ExecutorEventKind.Finished, 138), (byJob[908].Last().Kind, byJob[908].Last().ExitCode));
        Assert.Equal(["n06", "n07"], byJob[907].Single().Nodes!);
        Assert.Equal(ExecutorEventKind.TimedOut, byJob[901].Last().Kind);
        Assert.Equal(ExecutorEventKind.NodeFailure, byJob[909].Last().Kind);
        Assert.Equal(ExecutorEventKind.Cancelled, byJob[911].Last().Kind);
    }

    [Fact]
    public void Extra_sbatch_arguments_are_refused_with_the_rest_transport() =>
        Assert.Throws<ArgumentException>(() => new SlurmExecutor(new SlurmExecutorOptions(ExtraSbatchArguments: ["--qos=x"]), new SlurmRestOptions(new Uri("http://x"), "root", "t")));
}
