using GpuFleet.Core.Fleets;

namespace GpuFleet.Server.Tests;

/// <summary>
/// A site whose executor is this machine (<c>executor: { kind: local }</c>) with virtual GPUs: a job
/// submitted through the API really runs, sees the GPUs it was placed on, ends with its exit code, has
/// its output served, and a cancel through the API stops its processes.
/// </summary>
[Trait("Category", "Integration")]
public sealed class LocalSiteTests
{
    [Fact]
    public async Task A_job_runs_on_this_machine_with_its_gpus_its_log_is_served_and_cancel_stops_it()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"gpufleet-local-site-{Guid.NewGuid():N}");
        var fleet = RunningServer.SmallFleetRunBy("local", new Dictionary<string, string> { ["logDirectory"] = logs, ["virtualGpus"] = "4" }, new GpuPoolSpec("s", "G", 4, 1, 1, 0));
        try
        {
            await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet });
            var exits = (await server.PostJobAsync(new { tenant = "a", gpus = 2, timeLimitSeconds = 600, command = "echo \"gpus=$CUDA_VISIBLE_DEVICES\"; exit 3" })).GetProperty("id").GetInt64();
            var sleeps = (await server.PostJobAsync(new { tenant = "b", gpus = 2, timeLimitSeconds = 600, command = "sleep 300" })).GetProperty("id").GetInt64();
            await server.UntilAsync(async () => (await server.GetJobAsync(exits)).GetProperty("state").GetString() == "failed"
                && (await server.GetJobAsync(sleeps)).GetProperty("state").GetString() == "running" && SleepOf(sleeps) is not null, "one job ended, the other runs");

            var job = await server.GetJobAsync(exits);
            Assert.StartsWith("exit code 3", job.GetProperty("detail").GetString());
            var gpus = string.Join(',', job.GetProperty("nodes")[0].GetProperty("gpus").EnumerateArray().Select(g => g.GetInt32()));
            Assert.Contains($"gpus={gpus}", await server.Client.GetStringAsync($"/api/v1/jobs/{exits}/log"));

            var pid = SleepOf(sleeps)!.Value;
            using var cancel = await server.Client.DeleteAsync($"/api/v1/jobs/{sleeps}");
            Assert.True(cancel.IsSuccessStatusCode);
            await server.UntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ")), "the cancelled job's process gone");
            Assert.Equal("cancelled", (await server.GetJobAsync(sleeps)).GetProperty("state").GetString());
        }
        finally
        {
            Directory.Delete(logs, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_machines_gpus_as_nvidia_smi_reads_them_are_in_the_metrics()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"gpufleet-local-smi-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var smi = Path.Combine(dir, "nvidia-smi");
        File.WriteAllText(smi, "#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, 81559, 36, 118.53, 0'\necho '1, NVIDIA H100 80GB HBM3, 81559, 52, 642.77, 97'\n");
        File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var fleet = RunningServer.SmallFleetRunBy("local", new Dictionary<string, string> { ["logDirectory"] = Path.Combine(dir, "logs"), ["nvidiaSmi"] = smi }, new GpuPoolSpec("s", "G", 2, 1, 1, 0));
        try
        {
            await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet });
            var metrics = "";
            await server.UntilAsync(async () => (metrics = await server.ClientWith(null).GetStringAsync("/metrics")).Contains("gpufleet_gpu_power_watts{"), "GPU readings in /metrics");
            Assert.Contains("gpufleet_gpu_temperature_celsius{site=\"s\",node=\"s-g-0001\",gpu=\"1\",name=\"NVIDIA H100 80GB HBM3\"} 52", metrics);
            Assert.Contains("gpufleet_gpu_utilization_ratio{site=\"s\",node=\"s-g-0001\",gpu=\"1\",name=\"NVIDIA H100 80GB HBM3\"} 0.97", metrics);
            Assert.Contains("gpufleet_gpu_power_watts{site=\"s\",node=\"s-g-0001\",gpu=\"0\",name=\"NVIDIA H100 80GB HBM3\"} 118.53", metrics);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // The process of "sleep 300" started for a job (its environment names the job), if it runs.
    private static int? SleepOf(long job)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")) != "sleep\0300\0") continue;
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains($"GPUFLEET_JOB_ID={job}")) return pid;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

}
