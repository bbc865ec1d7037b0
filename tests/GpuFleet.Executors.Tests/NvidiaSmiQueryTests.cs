using GpuFleet.Executors.Local;

namespace GpuFleet.Executors.Tests;

/// <summary>Recorded answers of <c>nvidia-smi</c> on several models (in NvidiaSmi/), read as the local executor reads them.</summary>
[Trait("Category", "Unit")]
public sealed class NvidiaSmiQueryTests
{
    internal static string Sample(string name) => Path.Combine(TestFiles.Root, "tests", "GpuFleet.Executors.Tests", "NvidiaSmi", name);

    private static GpuReading Read(string name) => NvidiaSmiQuery.Parse(File.ReadAllText(Sample(name)));

    [Theory]
    [InlineData("a100-sxm4-80gb.csv", "NVIDIA A100-SXM4-80GB", 81920)]
    [InlineData("h100-80gb-hbm3.csv", "NVIDIA H100 80GB HBM3", 81559)]
    [InlineData("b200.csv", "NVIDIA B200", 183359)]
    public void Eight_gpu_servers_are_read_whole(string file, string model, double memory)
    {
        var reading = Read(file);
        Assert.Empty(reading.Problems);
        Assert.False(reading.Virtual);
        Assert.Equal(Enumerable.Range(0, 8), reading.Gpus.Select(g => g.Index));
        Assert.All(reading.Gpus, g => Assert.Equal((model, memory), (g.Name, g.MemoryMiB)));
    }

    [Fact]
    public void Figures_are_read_with_their_fractions_and_extra_spaces()
    {
        var busy = Read("b200.csv").Gpus[2];
        Assert.Equal(new GpuTelemetry(2, "NVIDIA B200", 183359, 58, 962.40, 100), busy);
        Assert.Equal(new GpuTelemetry(3, "NVIDIA H100 80GB HBM3", 81559, 55, 688.10, 100), Read("h100-80gb-hbm3.csv").Gpus[3]);
    }

    [Fact]
    public void A_figure_the_driver_does_not_report_is_null_not_a_failure()
    {
        Assert.Null(Read("a100-sxm4-80gb.csv").Gpus[7].UtilizationPercent);
        Assert.Null(Read("b200.csv").Gpus[6].PowerW);
        var rtx = Read("rtx.csv");
        Assert.Empty(rtx.Problems);
        Assert.Equal(new GpuTelemetry(0, "NVIDIA GeForce RTX 4090", 24564, 41, 27.83, 3), rtx.Gpus[0]);
        Assert.Equal(new GpuTelemetry(1, "NVIDIA GeForce RTX 3060 Laptop GPU", 6144, null, null, null), rtx.Gpus[1]);
    }

    [Fact]
    public void Malformed_lines_are_skipped_and_named_and_the_good_ones_kept()
    {
        var reading = Read("malformed.csv");
        // Line 6 carries its units (a query without "nounits"): read all the same.
        Assert.Equal([new GpuTelemetry(0, "NVIDIA A100-SXM4-80GB", 81920, 33, 64.12, 0), new GpuTelemetry(2, "NVIDIA A100-SXM4-80GB", 81920, 45, 287.40, 98)], reading.Gpus);
        // The header, a short line, the driver's complaint, a bad index, a bad figure, an index seen before; not the empty line.
        Assert.Equal([1, 3, 5, 7, 8, 9], reading.Problems.Select(p => int.Parse(p.Split(' ')[2].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains("twice", reading.Problems[^1]);
    }

    [Fact]
    public void A_name_with_a_comma_and_windows_line_ends_are_read()
    {
        var reading = NvidiaSmiQuery.Parse("0, Tesla V100-SXM2-32GB, rev A, 32768, 40, 55.1, 12\r\n1, Tesla V100-SXM2-32GB, 32768, 41, 54.9, 0\r\n");
        Assert.Empty(reading.Problems);
        Assert.Equal(["Tesla V100-SXM2-32GB, rev A", "Tesla V100-SXM2-32GB"], reading.Gpus.Select(g => g.Name));
    }

    [Fact]
    public void Nothing_to_read_is_no_gpu_and_no_problem() => Assert.Equal((0, 0), (NvidiaSmiQuery.Parse("").Gpus.Count, NvidiaSmiQuery.Parse("\n\n").Problems.Count));
}
