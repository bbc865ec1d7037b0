using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// The slurmrestd plugin versions GpuFleet speaks and the choice among those a server offers. SchedMD's
/// advice: read the live specification (<c>GET /openapi/v3</c>) and use the highest version offered.
/// Example: a Slurm 24.11 slurmrestd offers <c>/slurm/v0.0.40/...</c> to <c>/slurm/v0.0.42/...</c> and
/// <c>/slurmdb/v0.0.40/...</c> to <c>/slurmdb/v0.0.42/...</c>: GpuFleet takes v0.0.42 for both.
/// </summary>
internal static partial class SlurmRestVersions
{
    /// <summary>The oldest and newest versions GpuFleet speaks (minor numbers of <c>v0.0.N</c>).</summary>
    public const int Oldest = 38, Newest = 44;

    /// <summary>The dialect of version <c>v0.0.<paramref name="minor"/></c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">GpuFleet does not speak it.</exception>
    public static ISlurmRestDialect Dialect(int minor) => minor switch
    {
        38 => new SlurmRestDialect038(),
        39 => new SlurmRestDialect039(),
        40 or 41 => new SlurmRestDialect040(minor),
        >= 42 and <= Newest => new SlurmRestDialect042(minor),
        _ => throw new ArgumentOutOfRangeException(nameof(minor), minor, $"GpuFleet speaks slurmrestd v0.0.{Oldest} to v0.0.{Newest}"),
    };

    /// <summary>The versions a specification offers for the controller (<c>/slurm/</c>) and for accounting (<c>/slurmdb/</c>).</summary>
    public static (SortedSet<int> Slurm, SortedSet<int> Slurmdb) Offered(JsonElement specification)
    {
        var slurm = new SortedSet<int>();
        var slurmdb = new SortedSet<int>();
        // Paths name their version ("/slurm/v0.0.42/jobs"); the oldest specifications put it in servers[].url.
        var texts = new List<string>();
        if (SlurmRestJson.Get(specification, "paths") is { ValueKind: JsonValueKind.Object } paths)
            texts.AddRange(paths.EnumerateObject().Select(p => p.Name));
        if (SlurmRestJson.Get(specification, "servers") is { ValueKind: JsonValueKind.Array } servers)
            texts.AddRange(servers.EnumerateArray().Select(s => SlurmRestJson.Text(s, "url") ?? ""));
        foreach (var text in texts)
            foreach (Match m in VersionInPath().Matches(text))
                (m.Groups[1].Value == "slurmdb" ? slurmdb : slurm).Add(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        return (slurm, slurmdb);
    }

    /// <summary>The highest version GpuFleet speaks among <paramref name="offered"/>; null when none.</summary>
    public static int? Choose(IEnumerable<int> offered) =>
        offered.Where(v => v is >= Oldest and <= Newest).Select(v => (int?)v).Max();

    [GeneratedRegex(@"/(slurm|slurmdb)/v0\.0\.(\d+)/")]
    private static partial Regex VersionInPath();
}
