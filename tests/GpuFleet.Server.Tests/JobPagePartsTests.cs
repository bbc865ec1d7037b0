using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Dashboard;
using GpuFleet.Server.Jobs;
using YamlDotNet.Serialization;

namespace GpuFleet.Server.Tests;

/// <summary>The job page's energy, and its submission as a job file.</summary>
[Trait("Category", "Unit")]
public sealed class JobPagePartsTests
{
    private static readonly Fleet TwoSites = new("t", [new GpuModel("G", 80, 1000, 100, 1)], [new Site("a", "o", "r", 10, 1.2), new Site("b", "o", "r", 10, 1.1)],
        [new GpuPoolSpec("a", "G", 8, 1, 1, 0), new GpuPoolSpec("b", "G", 8, 1, 1, 0)]);

    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Energy_is_each_charged_stretch_at_the_power_and_PUE_of_where_it_ran()
    {
        // 1 h at site a (PUE 1.2), requeued, then 30 min at site b (PUE 1.1) after Slurm's own start report 1 min after placement.
        IReadOnlyList<JobEvent> history =
        [
            new(T0, JobState.Pending, "submitted"),
            new(T0, JobState.Running, "placed on a/G: nodes a-0001 (GPUs 0-7)"),
            new(T0.AddHours(1), JobState.Pending, "preempted (reclaim) for job 9 of x"),
            new(T0.AddHours(2), JobState.Running, "placed on b/G: nodes b-0001 (GPUs 0-7)"),
            new(T0.AddHours(2).AddMinutes(1), JobState.Running, "started on b-0001 by slurm at b"),
            new(T0.AddHours(2).AddMinutes(31), JobState.Succeeded, "exit code 0"),
        ];
        // 8 × 1 kW × 1.2 × 1 h + 8 × 1 kW × 1.1 × 0.5 h
        Assert.Equal(9.6 + 4.4, JobEnergy.Kwh(history, 8, TwoSites, T0.AddDays(1)), 9);
        // While it still runs, up to now.
        Assert.Equal(9.6, JobEnergy.Kwh(history.Take(2).ToList(), 8, TwoSites, T0.AddHours(1)), 9);
    }

    [Fact]
    public void The_job_file_reads_back_as_the_same_fields_and_leaves_defaults_out()
    {
        var job = new NewJob("train: 'big' #1", "startups", 8, ["B200"], 14_400, 5, "production", "python train.py\n--epochs 3", null,
            TopologyNeed.Node, Site: "sk-ulsan", CheckpointSeconds: 1800);
        var yaml = SubmitCommand.JobFile(job);
        var fields = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(yaml);
        Assert.Equal("train: 'big' #1", fields["name"]);
        Assert.Equal("python train.py\n--epochs 3", fields["command"]);
        Assert.Equal(["B200"], ((List<object>)fields["models"]).Cast<string>());
        Assert.Equal("8,14400,5,production,node,sk-ulsan,1800",
            string.Join(',', new[] { "gpus", "timeLimitSeconds", "priority", "priorityClass", "topology", "site", "checkpointSeconds" }.Select(k => fields[k])));
        Assert.False(fields.ContainsKey("dataGb"));
        Assert.False(fields.ContainsKey("dataSite"));
        Assert.False(fields.ContainsKey("runtimeSeconds"));
    }
}
