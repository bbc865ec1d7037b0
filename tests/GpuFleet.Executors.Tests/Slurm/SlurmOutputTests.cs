using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>Reading what the Slurm 22.05 tools printed on a real cluster (recorded by record.sh).</summary>
[Trait("Category", "Unit")]
public sealed class SlurmOutputTests
{
    private static readonly IReadOnlyList<SlurmJob> Queue = SlurmOutput.ParseQueue(FakeSlurmTools.Recorded("squeue-states.out"));

    private static SlurmJob Job(string id) => Queue.Single(j => j.Id == id);

    [Fact]
    public void Squeue_lines_give_every_job_with_its_state_and_the_exit_code_out_of_the_wait_status()
    {
        Assert.Equal(27, Queue.Count);
        var failed = Job("10968");   // exit 3: wait status 768
        Assert.Equal(("FAILED", "NonZeroExitCode", 3, 0), (failed.State, failed.Reason, failed.ExitCode, failed.Signal));
        Assert.Equal(902L, ExecutorLaunch.JobIdOf(failed.Name));
        Assert.Equal(["n01"], failed.Nodes);
        Assert.Equal(1, failed.GpusPerNode);
        var killed = Job("10975");   // killed by SIGUSR1: wait status 10
        Assert.Equal((0, 10), (killed.ExitCode, killed.Signal));
        Assert.Equal(("TIMEOUT", "TimeLimit"), (Job("10967").State, Job("10967").Reason));
        Assert.Equal("NODE_FAIL", Job("10976").State);
        Assert.Equal("CANCELLED", Job("10972").State);
    }

    [Fact]
    public void Squeue_times_are_unix_seconds_and_host_lists_are_expanded()
    {
        var completed = Job("10969");
        Assert.Equal(["n02", "n03"], completed.Nodes);
        Assert.Equal(8, completed.GpusPerNode);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796197216), completed.Start);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796197217), completed.End);
        var pending = Job("10971");
        Assert.Equal("PENDING", pending.State);
        Assert.Empty(pending.Nodes);
    }

    [Fact]
    public void A_heterogeneous_jobs_components_name_their_leader()
    {
        Assert.Equal(("10973", 0, "n06", 8), (Job("10973").RunId, Job("10973").Component, Job("10973").Nodes.Single(), Job("10973").GpusPerNode));
        Assert.Equal(("10973", 1, "n07", 4), (Job("10974").RunId, Job("10974").Component, Job("10974").Nodes.Single(), Job("10974").GpusPerNode));
        Assert.Equal(["10973"], SlurmOutput.ParseIds(FakeSlurmTools.Recorded("squeue-ids-hetjob.out")));
    }

    [Fact]
    public void A_bar_in_a_name_stays_in_the_name()
    {
        var other = Job("10977");
        Assert.Equal("train|big", other.Name);
        Assert.Null(ExecutorLaunch.JobIdOf(other.Name));
        Assert.Equal(["n08"], other.Nodes);
    }

    [Fact]
    public void A_line_in_another_format_is_refused_not_misread() =>
        Assert.Throws<FormatException>(() => SlurmOutput.ParseQueue("10968 FAILED n01 gpufleet-902"));

    [Fact]
    public void Sinfo_gives_each_node_with_its_gpus_used_and_state()
    {
        var nodes = SlurmOutput.ParseNodes(FakeSlurmTools.Recorded("sinfo-nodes.out"));
        Assert.Equal(16, nodes.Count);
        Assert.All(nodes, n => Assert.Equal(8, n.Gpus));
        Assert.Equal(("idle+drain", 0), (nodes[4].State, nodes[4].GpusUsed));
        Assert.Equal(("n08", 5, "mixed"), (nodes[7].Name, nodes[7].GpusUsed, nodes[7].State));
        Assert.Equal(("n12", "allocated+drain"), (nodes[11].Name, nodes[11].State));
        Assert.Equal(("n13", "down"), (nodes[12].Name, nodes[12].State));
        Assert.Null(nodes[0].Model);
    }

    [Fact]
    public void Sinfo_gives_cpus_and_memory_when_asked_and_none_from_an_older_format()
    {
        // As the test cluster's sinfo prints NodeFormat (32 CPUs, RealMemory 2,048,000 MB), and as the four fields of before.
        var node = Assert.Single(SlurmOutput.ParseNodes("n01|gpu:8|gpu:2(IDX:0-1)|mixed|32|2048000|\n"));
        Assert.Equal(("n01", 8, 2, "mixed", 32, 2_048_000L, 2000), (node.Name, node.Gpus, node.GpusUsed, node.State, node.Cpus, node.MemoryMb, node.MemoryGb));
        Assert.Equal((0, 0L), Assert.Single(SlurmOutput.ParseNodes("n01|gpu:8|gpu:0|idle|\n")) is var old ? (old.Cpus, old.MemoryMb) : default);
        Assert.Contains("CPUs 'many' is not a whole number", Assert.Throws<FormatException>(() => SlurmOutput.ParseNodes("n01|gpu:8|gpu:0|idle|many|1000|\n")).Message);
    }

    [Fact]
    public void Sinfo_lists_a_node_in_two_partitions_once() =>
        Assert.Single(SlurmOutput.ParseNodes("n01|gpu:8|gpu:0|idle|\nn01|gpu:8|gpu:0|idle|\n"));

    [Theory]
    [InlineData("gpu:8", 8, null)]
    [InlineData("gpu:h100:8", 8, "h100")]
    [InlineData("gpu:h100:8(S:0-1)", 8, "h100")]
    [InlineData("gpu:h100:5(IDX:0-2,5-6)", 5, "h100")]
    [InlineData("gpu:a100:2(S:0),gpu:v100:6(S:1)", 8, "v100")]
    [InlineData("mps:100,gpu:4", 4, null)]
    [InlineData("(null)", 0, null)]
    public void Gres_gives_the_gpus_and_their_type(string gres, int gpus, string? model)
    {
        Assert.Equal(gpus, SlurmOutput.Gpus(gres, out var m));
        Assert.Equal(model, m);
    }

    [Theory]
    [InlineData("gres:gpu:8", 8)]
    [InlineData("gres:gpu:h100:2", 2)]
    [InlineData("gres/gpu:4", 4)]
    [InlineData("gres/gpu=3", 3)]
    [InlineData("gres:gpu", 1)]
    [InlineData("N/A", 0)]
    [InlineData("cpu=4", 0)]
    public void Tres_per_node_gives_the_gpus_per_node(string tres, int gpus) => Assert.Equal(gpus, SlurmOutput.GpusPerNode(tres));

    [Theory]
    [InlineData("squeue-unreachable.err", true)]
    [InlineData("sbatch-unreachable.err", true)]
    [InlineData("sbatch-no-munge.err", true)]
    [InlineData("sbatch-invalid-node.err", false)]
    [InlineData("sbatch-too-many-gpus.err", false)]
    [InlineData("sacct-disabled.err", false)]
    public void A_controller_that_cannot_be_reached_is_told_from_a_refusal(string recorded, bool unreachable) =>
        Assert.Equal(unreachable, SlurmOutput.IsUnreachable(FakeSlurmTools.Recorded(recorded)));

    [Fact]
    public void An_error_is_given_in_slurms_words_without_the_tools_prefix() =>
        Assert.Equal("Batch job submission failed: Invalid node name specified",
            SlurmOutput.Message(FakeSlurmTools.Error(FakeSlurmTools.Recorded("sbatch-invalid-node.err"))));

    [Fact]
    public void Sbatch_prints_the_job_id_with_or_without_the_cluster()
    {
        Assert.Equal("10954", SlurmOutput.ParseSubmitted("10954\n"));
        Assert.Equal("10954", SlurmOutput.ParseSubmitted("10954;gpufleet\n"));
        Assert.Null(SlurmOutput.ParseSubmitted(""));
    }

    // Written from sacct's documented --parsable2 format: the local cluster keeps no accounting.
    [Fact]
    public void Sacct_lines_give_state_exit_code_and_signal()
    {
        var jobs = SlurmOutput.ParseAccounting(
            "500|COMPLETED|0:0|1796197003|1796197004|n[02-03]|gpufleet-903\n" +
            "501|CANCELLED by 0|0:15|1796197003|1796197209|n04|gpufleet-904\n" +
            "502+0|FAILED|3:0|1796197003|1796197009|n06|gpufleet-907\n" +
            "502+1|FAILED|3:0|1796197003|1796197009|n07|gpufleet-907\n" +
            "503|CANCELLED by 1000|0:0|Unknown|1796197003|None assigned|gpufleet-906\n");
        Assert.Equal(["n02", "n03"], jobs[0].Nodes);
        Assert.Equal(("CANCELLED", 15), (jobs[1].State, jobs[1].Signal));
        Assert.Equal(("502", 1, 3), (jobs[3].RunId, jobs[3].Component, jobs[3].ExitCode));
        Assert.Empty(jobs[4].Nodes);
        Assert.Null(jobs[4].Start);
    }

    [Theory]
    [InlineData("idle", InventoryNodeState.Up)]
    [InlineData("mixed", InventoryNodeState.Up)]
    [InlineData("allocated", InventoryNodeState.Up)]
    [InlineData("completing", InventoryNodeState.Up)]
    [InlineData("idle+drain", InventoryNodeState.Drained)]
    [InlineData("mixed+drain", InventoryNodeState.Drained)]
    [InlineData("allocated+drain", InventoryNodeState.Drained)]
    [InlineData("drained", InventoryNodeState.Drained)]
    [InlineData("draining", InventoryNodeState.Drained)]
    [InlineData("idle+maint", InventoryNodeState.Drained)]
    [InlineData("down", InventoryNodeState.Down)]
    [InlineData("down*", InventoryNodeState.Down)]
    [InlineData("idle*", InventoryNodeState.Down)]
    [InlineData("idle+not_responding", InventoryNodeState.Down)]
    [InlineData("down+drain", InventoryNodeState.Down)]
    [InlineData("unknown", InventoryNodeState.Down)]
    public void A_nodes_slurm_state_maps_to_up_drained_or_down(string state, InventoryNodeState expected) =>
        Assert.Equal(expected, SlurmExecutor.StateOf(state));
}
