using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>Answers each tool call with recorded output and remembers the calls.</summary>
internal sealed class FakeSlurmTools(Func<string, IReadOnlyList<string>, SlurmToolResult> answer) : ISlurmTools
{
    public List<(string Tool, IReadOnlyList<string> Args)> Calls { get; } = [];

    public IEnumerable<IReadOnlyList<string>> CallsOf(string tool) => Calls.Where(c => c.Tool == tool).Select(c => c.Args);

    public Task<SlurmToolResult> RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancel)
    {
        Calls.Add((tool, arguments));
        return Task.FromResult(answer(tool, arguments));
    }

    public static SlurmToolResult Ok(string output = "") => new(0, output, "");

    public static SlurmToolResult Error(string error, int exitCode = 1) => new(exitCode, "", error);

    /// <summary>Output recorded from a real Slurm 22.05 by record.sh.</summary>
    public static string Recorded(string name) =>
        File.ReadAllText(Path.Combine(TestFiles.Root, "tests", "GpuFleet.Executors.Tests", "Slurm", name));
}
