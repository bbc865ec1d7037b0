namespace GpuFleet.Executors.Slurm;

/// <summary>What a Slurm tool printed and how it exited.</summary>
internal sealed record SlurmToolResult(int ExitCode, string Output, string Error);
