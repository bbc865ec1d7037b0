using GpuFleet.Executors.Local;

namespace GpuFleet.Executors.Tests;

/// <summary>
/// GPU slices on this machine: a MIG slice sees a free MIG instance of its profile by UUID (from <c>nvidia-smi -L</c>),
/// or its GPU's index where the GPU lists none; a time-shared share sees its GPU with MPS's share of the threads;
/// virtual GPUs give the same environment with made-up MIG ids.
/// </summary>
[Trait("Category", "Integration")]
public sealed class LocalSliceTests
{
    private const string ShowDevices = "echo \"gpus=$CUDA_VISIBLE_DEVICES mps=${CUDA_MPS_ACTIVE_THREAD_PERCENTAGE:-none}\"";

    private static ExecutorLaunch SliceJob(long id, string command, params GpuSlice[] slices) =>
        LocalHarness.Launch(id, command, gpus: [.. slices.Select(s => s.Gpu).Distinct()]) with { Slices = slices };

    private static GpuSlice Mig(int gpu, string profile, int start) => new(LocalHarness.Node, gpu, profile, start, 1 / 7.0, 10);

    private static GpuSlice Share(int gpu, double fraction) => new(LocalHarness.Node, gpu, null, 0, fraction, 20);

    [Fact]
    public void Nvidia_smi_L_lists_the_mig_instances_of_each_gpu_with_their_uuids()
    {
        var devices = NvidiaSmiDevices.Parse(File.ReadAllText(NvidiaSmiQueryTests.Sample("a100-mig-list.txt")));
        Assert.Equal(4, devices.Count);
        Assert.Equal(new MigDevice(0, "1g.10gb", 1, "MIG-4f1e8a2b-6c3d-5e4f-9a0b-1c2d3e4f5a6b"), devices[1]);
        Assert.Equal(new MigDevice(1, "7g.80gb", 0, "MIG-b1c2d3e4-f5a6-5b7c-8d9e-0f1a2b3c4d5e"), devices[3]);
        Assert.Empty(NvidiaSmiDevices.Parse("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n"));
    }

    [Fact]
    public async Task Mig_slices_get_free_instances_of_their_profile_by_uuid_and_a_gpu_without_mig_its_index()
    {
        await using var local = new LocalHarness(o => o with { NvidiaSmiPath = FakeNvidiaSmi() });
        var holder = LocalHarness.NewJobId();
        await local.Executor.LaunchAsync(SliceJob(holder, ShowDevices + "; sleep 60", Mig(0, "1g.10gb", 4), Mig(0, "1g.10gb", 5)), CancellationToken.None);
        await LocalHarness.EventuallyAsync(() => File.Exists(local.Executor.LogPath(holder)) && local.Log(holder).Length > 0, "the first job wrote its devices");
        Assert.Equal("gpus=MIG-4f1e8a2b-6c3d-5e4f-9a0b-1c2d3e4f5a6b,MIG-7d6c5b4a-3e2f-5a1b-8c9d-0e1f2a3b4c5d mps=none\n", local.Log(holder));

        // Both 1g.10gb instances of GPU 0 are held while it runs.
        var e = await Assert.ThrowsAsync<ExecutorRejectedException>(() => local.Executor.LaunchAsync(SliceJob(LocalHarness.NewJobId(), "true", Mig(0, "1g.10gb", 6)), CancellationToken.None));
        Assert.Contains("1g.10gb MIG instance of GPU 0", e.Message);
        Assert.Contains("3g.40gb device 0, 1g.10gb device 1, 1g.10gb device 2", e.Message);

        // GPU 1's one instance by UUID; GPU 2 lists no MIG instance: its index.
        var other = LocalHarness.NewJobId();
        await local.Executor.LaunchAsync(SliceJob(other, ShowDevices, Mig(1, "7g.80gb", 0), Mig(2, "1g.10gb", 0)), CancellationToken.None);
        await local.WaitForAsync(other, ExecutorEventKind.Finished);
        Assert.Equal("gpus=MIG-b1c2d3e4-f5a6-5b7c-8d9e-0f1a2b3c4d5e,2 mps=none\n", local.Log(other));

        // Once the holder ended, its instances are free again.
        await local.Executor.CancelAsync(holder, CancellationToken.None);
        await local.WaitForEndAsync(holder);
        var after = LocalHarness.NewJobId();
        await local.Executor.LaunchAsync(SliceJob(after, ShowDevices, Mig(0, "1g.10gb", 6)), CancellationToken.None);
        await local.WaitForAsync(after, ExecutorEventKind.Finished);
        Assert.Equal("gpus=MIG-4f1e8a2b-6c3d-5e4f-9a0b-1c2d3e4f5a6b mps=none\n", local.Log(after));
    }

    [Fact]
    public async Task On_virtual_gpus_mig_slices_get_made_up_ids_and_time_shared_shares_their_gpu_with_mps_percentage()
    {
        await using var local = new LocalHarness();
        var mig = LocalHarness.NewJobId();
        await local.Executor.LaunchAsync(SliceJob(mig, ShowDevices, Mig(3, "1g.10gb", 2), Mig(1, "3g.40gb", 4)), CancellationToken.None);
        await local.WaitForAsync(mig, ExecutorEventKind.Finished);
        // In order of GPU.
        Assert.Equal("gpus=MIG-virtual-1-3g.40gb-4,MIG-virtual-3-1g.10gb-2 mps=none\n", local.Log(mig));

        var shared = LocalHarness.NewJobId();
        await local.Executor.LaunchAsync(SliceJob(shared, ShowDevices, Share(2, 0.125), Share(0, 0.125)), CancellationToken.None);
        await local.WaitForAsync(shared, ExecutorEventKind.Finished);
        // 0.125 × 100 = 12.5, rounded up.
        Assert.Equal("gpus=0,2 mps=13\n", local.Log(shared));
    }

    // nvidia-smi answering the query of the GPUs (an A100 machine) and -L (MIG on GPUs 0 and 1).
    private static string FakeNvidiaSmi()
    {
        var path = TestFiles.Temp("nvidia-smi");
        File.WriteAllText(path, $$"""
            #!/bin/sh
            if [ "$1" = "-L" ]; then cat '{{NvidiaSmiQueryTests.Sample("a100-mig-list.txt")}}'; exit 0; fi
            [ "$#" = 2 ] && [ "$1" = "--query-gpu=index,name,memory.total,temperature.gpu,power.draw,utilization.gpu" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
            cat '{{NvidiaSmiQueryTests.Sample("a100-sxm4-80gb.csv")}}'

            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
