using System.CommandLine;
using GpuFleet.Server.Twin;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// The flags of the server's twin runs (the dashboard's Twin page, <c>/api/v1/twin</c>), shared by
/// <c>serve</c> and <c>demo</c>: where the fleets, tenant trees and sample traces lie, and how many runs
/// may wait or run at once.
/// </summary>
internal sealed class TwinFlags
{
    private readonly Option<string> _directory = new("--twin-dir")
    {
        Description = "Where twin runs find fleets/*.yaml, tenants/*.yaml and sample traces/*.csv[.gz] to choose from (default: the current directory).",
        DefaultValueFactory = _ => ".",
    };
    private readonly Option<int> _queue = new("--twin-queue")
    {
        Description = "Most twin runs queued or running at once, all users together (more: 429). One runs at a time, on one core.",
        DefaultValueFactory = _ => TwinSettings.DefaultMaxActiveRuns,
    };
    private readonly Option<int> _perToken = new("--twin-per-token")
    {
        Description = "Most twin runs one token may have queued or running at once (more: 429).",
        DefaultValueFactory = _ => TwinSettings.DefaultMaxActiveRunsPerToken,
    };

    /// <summary>The flags, to add to a command.</summary>
    public IEnumerable<Option> All => [_directory, _queue, _perToken];

    /// <summary>The twin runs' settings from the flags given; a bad value names its flag.</summary>
    public TwinSettings Read(ParseResult r)
    {
        var directory = r.GetValue(_directory)!;
        if (!Directory.Exists(directory)) throw new CliUsageException($"--twin-dir: no directory '{directory}'");
        var queue = r.GetValue(_queue);
        if (queue < 1) throw new CliUsageException($"--twin-queue must be at least 1, not {queue}");
        var perToken = r.GetValue(_perToken);
        if (perToken < 1) throw new CliUsageException($"--twin-per-token must be at least 1, not {perToken}");
        return new TwinSettings { Directory = Path.GetFullPath(directory), MaxActiveRuns = queue, MaxActiveRunsPerToken = perToken };
    }
}
