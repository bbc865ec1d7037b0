using System.Text.Json;
using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>
/// GPU slices, CPU cores and memory as Slurm is asked for them: by sbatch (MIG instances as GPU types named after their
/// profile, time-shared shares as shards, <c>--cpus-per-gpu</c>/<c>--mem-per-gpu</c>, or per node for shards) and by
/// slurmrestd in each version's schema.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SlurmSliceTests
{
    public static TheoryData<string> Versions => SlurmRestClientTests.Versions;

    private static (SlurmExecutor Executor, FakeSlurmTools Tools) OverTools(SlurmExecutorOptions? options = null)
    {
        var o = options ?? new SlurmExecutorOptions();
        var tools = new FakeSlurmTools((tool, args) => tool switch
        {
            "squeue" => FakeSlurmTools.Ok(),
            "sbatch" => FakeSlurmTools.Ok("20000\n"),
            _ => throw new InvalidOperationException(tool),
        });
        return (new SlurmExecutor(o, new SlurmCommandLineClient(o, tools), new FixedClock(DateTimeOffset.UnixEpoch)), tools);
    }

    // Two 1g.23gb instances on GPU 3 and one 2g.45gb on GPU 5 of n01.
    private static readonly ExecutorLaunch Mig = new(41, "infer", "tenant-a", "serve", 90, [new NodeGpus("n01", [3, 5])])
    {
        CpusPerGpu = 2.5,
        MemoryGbPerGpu = 16,
        Slices = [new GpuSlice("n01", 3, "1g.23gb", 2, 1 / 7.0, 23), new GpuSlice("n01", 3, "1g.23gb", 3, 1 / 7.0, 23), new GpuSlice("n01", 5, "2g.45gb", 4, 2 / 7.0, 45)],
    };

    // Two time-shared quarters, one on each of GPUs 0 and 1 of n02.
    private static readonly ExecutorLaunch Shared = new(42, "notebook", "tenant-a", "jupyter", 90, [new NodeGpus("n02", [0, 1])])
    {
        CpusPerGpu = 3,
        MemoryGbPerGpu = 8,
        Slices = [new GpuSlice("n02", 0, null, 0, 0.25, 20), new GpuSlice("n02", 1, null, 0, 0.25, 20)],
    };

    private static List<string> Placement(IReadOnlyList<string> args)
    {
        var list = args.ToList();
        var from = list.IndexOf("--time=2");
        return list[from..list.IndexOf("--wrap")];
    }

    [Fact]
    public async Task Mig_slices_are_gpu_types_named_after_their_profiles_with_cpus_and_memory_per_gpu()
    {
        var (executor, tools) = OverTools();
        await executor.LaunchAsync(Mig, default);
        Assert.Equal(["--time=2", "--nodelist=n01", "--nodes=1", "--gres=gpu:1g.23gb:2,gpu:2g.45gb:1", "--cpus-per-gpu=3", "--mem-per-gpu=16384M"],
            Placement(tools.CallsOf("sbatch").Single()));
    }

    [Fact]
    public async Task Time_shared_shares_are_shards_of_the_gpus_with_cpus_and_memory_for_the_node()
    {
        var (executor, tools) = OverTools();
        await executor.LaunchAsync(Shared, default);
        // 0.25 of 100 shards per GPU each; 2 shares × 3 cores and × 8 GB on the node's one task.
        Assert.Equal(["--time=2", "--nodelist=n02", "--nodes=1", "--gres=shard:50", "--cpus-per-task=6", "--mem=16384M"],
            Placement(tools.CallsOf("sbatch").Single()));
    }

    [Fact]
    public async Task Shards_follow_the_sites_shards_per_gpu_rounded_up()
    {
        var (executor, tools) = OverTools(new SlurmExecutorOptions { ShardsPerGpu = 8 });
        await executor.LaunchAsync(Shared with { Slices = [new GpuSlice("n02", 0, null, 0, 0.3, 20)], CpusPerGpu = 0, MemoryGbPerGpu = 0 }, default);
        // 0.3 × 8 = 2.4 → 3 shards; nothing asked of CPUs or memory.
        Assert.Equal(["--time=2", "--nodelist=n02", "--nodes=1", "--gres=shard:3"], Placement(tools.CallsOf("sbatch").Single()));
    }

    [Fact]
    public async Task Whole_gpus_ask_for_cpus_and_memory_per_gpu_and_nodes_of_different_amounts_are_components()
    {
        var (executor, tools) = OverTools();
        await executor.LaunchAsync(new ExecutorLaunch(43, "train", "tenant-a", "train", 90,
            [new NodeGpus("n01", [.. Enumerable.Range(0, 8)]), new NodeGpus("n02", [0, 1])]) { CpusPerGpu = 12, MemoryGbPerGpu = 0.5 }, default);
        var args = tools.CallsOf("sbatch").Single().ToList();
        var colon = args.IndexOf(":");
        Assert.Equal(["--gres=gpu:8", "--cpus-per-gpu=12", "--mem-per-gpu=512M", "--nice=1000000"], args[(colon - 4)..colon]);
        Assert.Equal(["--gres=gpu:2", "--cpus-per-gpu=12", "--mem-per-gpu=512M", "--nice=1000000", "--wrap"], args[(colon + 4)..^1]);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Slurmrestd_gets_mig_types_and_cpus_and_memory_in_the_versions_schema(string version)
    {
        var job = await SubmittedAsync(version, Mig);
        if (version == "v0.0.38")
        {
            Assert.Equal(("gpu:1g.23gb:2,gpu:2g.45gb:1", "3", 16384L),
                (job.GetProperty("gres").GetString(), job.GetProperty("cpus_per_gpu").GetString(), job.GetProperty("memory_per_gpu").GetInt64()));
            return;
        }
        var prefix = version == "v0.0.39" ? "gres:" : "gres/";
        Assert.Equal(($"{prefix}gpu:1g.23gb:2,{prefix}gpu:2g.45gb:1", $"{prefix}gpu:3"),
            (job.GetProperty("tres_per_node").GetString(), job.GetProperty("cpus_per_tres").GetString()));
        // 16 GB for each of the 3 instances, as the node's memory.
        Assert.Equal("""{"set":true,"infinite":false,"number":49152}""", job.GetProperty("memory_per_node").GetRawText());
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Slurmrestd_gets_shards_and_the_nodes_cpus_and_memory_in_the_versions_schema(string version)
    {
        var job = await SubmittedAsync(version, Shared);
        Assert.Equal(6, job.GetProperty("cpus_per_task").GetInt32());
        if (version == "v0.0.38")
        {
            Assert.Equal(("shard:50", 16384L), (job.GetProperty("gres").GetString(), job.GetProperty("memory_per_node").GetInt64()));
            return;
        }
        var prefix = version == "v0.0.39" ? "gres:" : "gres/";
        Assert.Equal(prefix + "shard:50", job.GetProperty("tres_per_node").GetString());
        Assert.False(job.TryGetProperty("cpus_per_tres", out _));
        Assert.Equal("""{"set":true,"infinite":false,"number":16384}""", job.GetProperty("memory_per_node").GetRawText());
    }

    private static async Task<JsonElement> SubmittedAsync(string version, ExecutorLaunch launch)
    {
        var fake = FakeSlurmRest.Cluster(version);
        var options = new SlurmExecutorOptions();
        await using var executor = new SlurmExecutor(options, FakeSlurmRest.Client(fake, options), new FixedClock(DateTimeOffset.UnixEpoch));
        await executor.LaunchAsync(launch, default);
        var body = JsonSerializer.Deserialize<JsonElement>(fake.To("POST", "/job/submit").Single().Body!);
        SubmissionSchema.Check(version, body);
        return body.GetProperty("job");
    }
}
