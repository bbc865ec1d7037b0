namespace GpuFleet.Cli.Commands;

/// <summary>A command-line value that makes no sense, named by its option.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
