using System.Collections.Concurrent;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;

namespace GpuFleet.Server.Twin;

/// <summary>
/// What a twin run may be made of: the fleets (<c>fleets/*.yaml</c>), tenant trees (<c>tenants/*.yaml</c>)
/// and sample traces (<c>traces/*.csv</c>, <c>*.csv.gz</c>) under <see cref="TwinSettings.Directory"/>, each
/// known by its file name without the extension (<c>philly-contended</c>, <c>philly-vcs</c>,
/// <c>philly-2017-10</c>). Files are listed once, at start; a fleet or tree is read when first used and
/// kept (they are small next to a run, and the same for every run).
/// </summary>
public sealed class TwinCatalog
{
    private readonly ConcurrentDictionary<string, Fleet> _fleets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Fleet, string Tenants), TenantTree> _trees = new();

    /// <summary>Lists the files under <paramref name="settings"/>' directory.</summary>
    public TwinCatalog(TwinSettings settings)
    {
        var root = settings.Directory;
        Fleets = Files(root, "fleets", ".yaml");
        TenantTrees = Files(root, "tenants", ".yaml");
        Traces = Files(root, "traces", ".csv.gz", ".csv");
    }

    /// <summary>Fleet name → its file.</summary>
    public IReadOnlyDictionary<string, string> Fleets { get; }

    /// <summary>Tenant tree name → its file.</summary>
    public IReadOnlyDictionary<string, string> TenantTrees { get; }

    /// <summary>Sample trace name → its file.</summary>
    public IReadOnlyDictionary<string, string> Traces { get; }

    /// <summary>
    /// The fleet <paramref name="name"/> (one of <see cref="Fleets"/>).
    /// </summary>
    /// <exception cref="DataFileException">Its file cannot be read; the message names the file as <c>fleets/NAME.yaml</c>.</exception>
    public Fleet Fleet(string name)
    {
        if (_fleets.TryGetValue(name, out var fleet)) return fleet;
        fleet = Shown(Fleets[name], "fleets", () => FleetFile.Load(Fleets[name]));
        return _fleets.GetOrAdd(name, fleet);
    }

    /// <summary>The tenant tree <paramref name="name"/> (one of <see cref="TenantTrees"/>), checked against the fleet <paramref name="fleet"/>.</summary>
    /// <exception cref="DataFileException">Its file cannot be read, or names a GPU model the fleet lacks.</exception>
    public TenantTree Tree(string name, string fleet)
    {
        if (_trees.TryGetValue((fleet, name), out var tree)) return tree;
        var loaded = Fleet(fleet);
        tree = Shown(TenantTrees[name], "tenants", () => TenantFile.Load(TenantTrees[name], loaded));
        return _trees.GetOrAdd((fleet, name), tree);
    }

    /// <summary>
    /// A reader's problem with its file named as the user knows it (<c>fleets/x.yaml:3: …</c>) rather than by
    /// the server's path, which is none of the user's business.
    /// </summary>
    public static DataFileException Renamed(DataFileException e, string shownAs) => new(shownAs, e.Line, e.Field, e.Problem);

    private static T Shown<T>(string path, string folder, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (DataFileException e)
        {
            // The file at fault: a fleet's own, or one it extends.
            throw Renamed(e, $"{folder}/{Path.GetFileName(e.File)}");
        }
        catch (FleetValidationException e)
        {
            throw new DataFileException($"{folder}/{Path.GetFileName(path)}", 0, folder == "fleets" ? "fleet" : "tenants", e.Message);
        }
    }

    // Name (file name less the first extension that matches) → path, by name.
    private static SortedDictionary<string, string> Files(string? root, string folder, params string[] extensions)
    {
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var directory = root is null ? null : Path.Combine(root, folder);
        if (directory is null || !System.IO.Directory.Exists(directory)) return found;
        foreach (var path in System.IO.Directory.EnumerateFiles(directory))
        {
            var file = Path.GetFileName(path);
            var extension = extensions.FirstOrDefault(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase) && file.Length > e.Length);
            if (extension is not null) found.TryAdd(file[..^extension.Length], Path.GetFullPath(path));
        }
        return found;
    }
}
