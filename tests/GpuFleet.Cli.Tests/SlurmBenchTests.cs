using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// <c>gpufleet bench slurm</c> at a tiny scale on the test cluster (<see cref="TestSlurm"/>): ten jobs of 2-4 s on
/// nodes n07-n10 (the executor tests' jobs there are few and small; the bench waits at most 5 s for them to leave
/// before each variant, and GpuFleet keeps off the GPUs they hold), each variant one after another. Every job of
/// every variant must have run exactly once and completed, as Slurm's own completion log says, and the report must
/// hold every figure.
/// </summary>
[Trait("Category", "Slurm")]
public sealed partial class SlurmBenchTests
{
    [GeneratedRegex(@"(?:^| )(JobId|Name|JobState|HetJobOffset)=(\S*)")]
    private static partial Regex Field();

    [Fact]
    public void Bench_slurm_runs_every_job_of_every_variant_once_to_its_end_and_reports_each_figure()
    {
        var json = TestFiles.Temp("bench-slurm.json");
        var csv = Path.Combine(Path.GetDirectoryName(json)!, "bench-slurm.csv");
        var before = File.ReadAllText(TestSlurm.Conf);
        var (code, stdout, stderr) = Gpufleet("bench", "slurm", "--jobs", "10", "--seed", "3", "--runtime-min", "2", "--runtime-max", "4",
            "--nodes", "n[07-10]", "--idle-timeout", "5", "--timeout", "150", "--json", json, "--csv", csv);
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains("GpuFleet over Slurm vs Slurm alone", stdout);
        // The cluster's settings are as they were.
        Assert.Equal(before, File.ReadAllText(TestSlurm.Conf));

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("n[07-10]", root.GetProperty("cluster").GetProperty("nodes").GetString());
        Assert.Equal(32, root.GetProperty("cluster").GetProperty("gpus").GetInt32());
        Assert.Equal(10, root.GetProperty("jobSet").GetProperty("jobs").GetInt32());
        var variants = root.GetProperty("variants");
        foreach (var variant in new[] { "slurm-default", "slurm-tuned", "gpufleet", "twin" })
        {
            var v = variants.GetProperty(variant);
            Assert.Equal(10, v.GetProperty("jobs").GetInt32());
            Assert.Empty(v.GetProperty("problems").EnumerateArray());
            foreach (var key in new[] { "makespanSeconds", "meanWaitSeconds", "p95WaitSeconds" })
                Assert.True(v.GetProperty(key).GetDouble() >= 0, $"{variant}.{key}");
            Assert.True(v.GetProperty("makespanSeconds").GetDouble() >= 2, $"{variant}: makespan shorter than a job");
            if (variant == "twin") continue;
            Assert.True(v.GetProperty("peakStartsPerSecond").GetInt32() >= 1, variant);
            Assert.True(v.GetProperty("startsPerSecond").GetDouble() > 0, variant);
        }
        var g = variants.GetProperty("gpufleet");
        foreach (var key in new[] { "launchLatencySeconds", "releaseLatencySeconds" }) Assert.True(g.TryGetProperty(key, out _), key);
        foreach (var ratio in new[] { "gpufleetToSlurmDefault", "gpufleetToSlurmTuned" })
            foreach (var key in new[] { "makespan", "meanWait", "p95Wait" })
                Assert.True(root.GetProperty("ratios").GetProperty(ratio).TryGetProperty(key, out _), $"{ratio}.{key}");
        foreach (var key in new[] { "makespan", "meanWait" })
            Assert.Equal(JsonValueKind.Number, root.GetProperty("twinDeviationPercent").GetProperty(key).ValueKind);

        // Each job's run in each variant, the twin's placements included.
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToList();
        foreach (var variant in new[] { "slurm-default", "slurm-tuned", "gpufleet", "twin" })
            Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Where(r => r[0] == variant).Select(r => r[1]));
        Assert.All(rows.Where(r => r[0] == "gpufleet"), r => Assert.True(r[8].Length > 0 && r[9].Length > 0, $"job {r[1]}: no placement or end seen"));

        // Slurm's own log of finished jobs: one run of each job of each variant, completed.
        var prefix = root.GetProperty("namePrefix").GetString()!;
        var ids = g.GetProperty("jobIds").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var runs = CompletionLog().Where(r => r.Name.StartsWith(prefix, StringComparison.Ordinal)
            || r.Name.StartsWith("gpufleet-", StringComparison.Ordinal) && long.TryParse(r.Name["gpufleet-".Length..], out var id) && id >= ids[0] && id <= ids[1]).ToList();
        foreach (var (variant, names) in new[]
        {
            ("slurm-default", Enumerable.Range(0, 10).Select(i => $"{prefix}slurm-default-{i:D4}")),
            ("slurm-tuned", Enumerable.Range(0, 10).Select(i => $"{prefix}slurm-tuned-{i:D4}")),
            ("gpufleet", runs.Where(r => r.Name.StartsWith("gpufleet-", StringComparison.Ordinal)).Select(r => r.Name).Distinct()),
        })
        {
            var wanted = names.ToList();
            Assert.True(wanted.Count == 10, $"{variant}: {wanted.Count} jobs in Slurm's log");
            foreach (var name in wanted)
            {
                var mine = runs.Where(r => r.Name == name).ToList();
                Assert.True(mine.Count == 1, $"{variant}: {name} ran {mine.Count} times");
                Assert.Equal("COMPLETED", mine[0].State);
            }
        }
    }

    // One entry per run (a heterogeneous job's first component stands for it): name and state.
    private static List<(string Name, string State)> CompletionLog()
    {
        var location = TestSlurm.Tool("scontrol", "show", "config").Split('\n').Single(l => l.StartsWith("JobCompLoc ", StringComparison.Ordinal)).Split('=', 2)[1].Trim();
        var runs = new List<(string, string)>();
        foreach (var line in File.ReadAllLines(location))
        {
            var fields = Field().Matches(line).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            if (fields.GetValueOrDefault("HetJobOffset", "0") != "0") continue;
            runs.Add((fields.GetValueOrDefault("Name", ""), fields.GetValueOrDefault("JobState", "")));
        }
        return runs;
    }

    private static (int Code, string Out, string Err) Gpufleet(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpufleet.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200";
        psi.Environment[TestSlurm.Variable] = TestSlurm.Conf;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }
}
