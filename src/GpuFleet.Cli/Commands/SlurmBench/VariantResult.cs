using System.Text.Json.Nodes;

namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>One variant's figures, what else it measured, and the jobs that did not run exactly once to their end.</summary>
/// <param name="Name">The variant, as the JSON and the table name it.</param>
/// <param name="Figures">Its figures.</param>
/// <param name="Detail">Variant-specific measurements (settings, latencies, counts).</param>
/// <param name="Problems">Each job that did not run exactly once and complete, in words; empty when all did.</param>
/// <param name="Timings">Each job's run, by index.</param>
internal sealed record VariantResult(string Name, RunFigures Figures, JsonObject Detail, IReadOnlyList<string> Problems, IReadOnlyList<JobTiming> Timings);
