using GpuFleet.Executors;

namespace GpuFleet.Executors.Tests;

public sealed class ExecutorLaunchTests
{
    [Theory]
    [InlineData("gpufleet-42", 42L)]
    [InlineData("gpufleet-0", 0L)]
    [InlineData("gpufleet-", null)]
    [InlineData("gpufleet--1", null)]
    [InlineData("gpufleet-12x", null)]
    [InlineData("train-42", null)]
    public void A_runs_name_gives_back_the_job_id_only_when_it_is_gpufleets(string name, long? id) =>
        Assert.Equal(id, ExecutorLaunch.JobIdOf(name));

    [Fact]
    public void The_run_name_round_trips() => Assert.Equal(123456789L, ExecutorLaunch.JobIdOf(ExecutorLaunch.RunName(123456789)));
}
