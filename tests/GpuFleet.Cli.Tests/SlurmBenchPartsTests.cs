using GpuFleet.Cli.Commands.SlurmBench;

namespace GpuFleet.Cli.Tests;

/// <summary>The parts of <c>gpufleet bench slurm</c> that need no cluster: the job set, the switch of slurm.conf's scheduler settings, the completion log.</summary>
[Trait("Category", "Cli")]
public sealed class SlurmBenchPartsTests
{
    [Fact]
    public void The_job_set_is_seeded_mixes_sizes_that_fit_and_gives_limits_of_twice_the_runtime_in_whole_minutes()
    {
        var jobs = SlurmBenchJobSet.Generate(400, 1, 5, 40, 8, 16);
        Assert.Equal(jobs, SlurmBenchJobSet.Generate(400, 1, 5, 40, 8, 16));
        Assert.NotEqual(jobs, SlurmBenchJobSet.Generate(400, 2, 5, 40, 8, 16));
        Assert.Equal([1, 2, 4, 8, 12, 16], jobs.Select(j => j.Gpus).Distinct().Order());
        Assert.All(jobs, j =>
        {
            Assert.InRange(j.RuntimeSeconds, 5, 40);
            Assert.Equal(Math.Max(1, (int)Math.Ceiling(2 * j.RuntimeSeconds / 60.0)), j.TimeLimitMinutes);
            Assert.Equal(j.Gpus, j.Nodes * j.GpusPerNode);
            Assert.True(j.GpusPerNode <= 8);
        });
        Assert.Equal((2, 6), jobs.Where(j => j.Gpus == 12).Select(j => (j.Nodes, j.GpusPerNode)).First());
        // On one node, nothing that needs two.
        Assert.All(SlurmBenchJobSet.Generate(100, 1, 5, 40, 8, 1), j => Assert.Equal(1, j.Nodes));
    }

    [Fact]
    public void The_scheduler_parameters_line_is_replaced_added_after_the_scheduler_type_or_removed()
    {
        const string conf = "ClusterName=c\nSchedulerType=sched/backfill\nSchedulerParameters=bf_interval=5\nNodeName=n01\n";
        Assert.Equal("ClusterName=c\nSchedulerType=sched/backfill\nNodeName=n01\n", SchedulerParametersSwitch.WithParameters(conf, null));
        Assert.Equal("ClusterName=c\nSchedulerType=sched/backfill\nSchedulerParameters=bf_interval=1\nNodeName=n01\n", SchedulerParametersSwitch.WithParameters(conf, "bf_interval=1"));
        Assert.Equal("ClusterName=c\nSchedulerType=sched/backfill\nSchedulerParameters=x\nNodeName=n01\n",
            SchedulerParametersSwitch.WithParameters("ClusterName=c\nSchedulerType=sched/backfill\nNodeName=n01\n", "x"));
        Assert.Equal("A=1\nSchedulerParameters=x\n", SchedulerParametersSwitch.WithParameters("A=1\n", "x"));
    }

    [Fact]
    public void The_completion_log_gives_one_record_per_job_a_heterogeneous_one_whole_and_skips_a_line_not_yet_written()
    {
        var log = TestFiles.Temp("jobcomp.txt");
        File.WriteAllText(log,
            "JobId=1 UserId=root(0) GroupId=root(0) Name=a-1 JobState=COMPLETED Partition=gpu TimeLimit=1 StartTime=2026-12-02T10:43:27 EndTime=2026-12-02T10:43:29 " +
            "NodeList=n[01-02] NodeCnt=2 ProcCnt=2 WorkDir=/tmp/with space ReservationName= Tres=cpu=2 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-12-02T10:43:24 EligibleTime=2026-12-02T10:43:24 DerivedExitCode=0:0 ExitCode=0:0\n" +
            "JobId=2 Name=a-2 JobState=COMPLETED StartTime=2026-12-02T10:43:51 EndTime=2026-12-02T10:43:53 NodeList=n03 SubmitTime=2026-12-02T10:43:24 HetJobId=2 HetJobOffset=0\n" +
            "JobId=3 Name=a-2 JobState=COMPLETED StartTime=2026-12-02T10:43:51 EndTime=2026-12-02T10:43:54 NodeList=n04 SubmitTime=2026-12-02T10:43:24 HetJobId=2 HetJobOffset=1\n" +
            "JobId=4 Name=other JobState=COMPLETED StartTime=2026-12-02T10:43:51 EndTime=2026-12-02T10:43:54 NodeList=n05 SubmitTime=2026-12-02T10:43:24\n" +
            "JobId=5 Name=a-3 JobState=CANCELLED StartTime=Unknown EndTime=2026-12-02T10:43:54 NodeList=(null) SubmitTime=2026-12-02T10:43:24\n" +
            "JobId=6 Name=a-4 JobState=COMPL");
        var records = JobCompLog.Read(log, n => n.StartsWith("a-", StringComparison.Ordinal)).OrderBy(r => r.JobId).ToList();
        Assert.Equal(["1", "2", "5"], records.Select(r => r.JobId));
        var local = TimeZoneInfo.Local.GetUtcOffset(new DateTime(2026, 12, 2, 10, 43, 0));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 10, 43, 27, local), records[0].Start);
        Assert.Equal(["n01", "n02"], records[0].Nodes);
        Assert.Equal((2, "n03,n04", new DateTimeOffset(2026, 12, 2, 10, 43, 54, local)), (records[1].Components, string.Join(',', records[1].Nodes), records[1].End));
        Assert.Equal(("CANCELLED", (DateTimeOffset?)null, 0), (records[2].State, records[2].Start, records[2].Nodes.Count));
    }
}
