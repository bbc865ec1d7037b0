using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;

namespace GpuFleet.Architecture.Tests;

/// <summary>
/// One project of the repository as its <c>.csproj</c> declares it and as it was built: the projects and
/// packages it references, and the assemblies its built assembly references.
/// </summary>
internal sealed class ProjectFile
{
    private ProjectFile(string path)
    {
        Path = path;
        Name = System.IO.Path.GetFileNameWithoutExtension(path);
        var xml = XDocument.Load(path);
        AssemblyName = xml.Descendants("AssemblyName").Select(e => e.Value.Trim()).LastOrDefault() ?? Name;
        ProjectReferences = [.. xml.Descendants("ProjectReference")
            // Build order only: no assembly reference comes of it (see the architecture tests' own project).
            .Where(e => !string.Equals((string?)e.Attribute("ReferenceOutputAssembly"), "false", StringComparison.OrdinalIgnoreCase))
            .Select(e => System.IO.Path.GetFullPath(System.IO.Path.Combine(Directory, ((string)e.Attribute("Include")!).Replace('\\', '/'))))];
        PackageReferences = [.. xml.Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!)];
    }

    /// <summary>Every project under src, tests and benchmarks.</summary>
    public static IReadOnlyList<ProjectFile> All { get; } = [.. new[] { "src", "tests", "benchmarks" }
        .SelectMany(d => System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(TestFiles.Root, d), "*.csproj", SearchOption.AllDirectories))
        .Where(p => !p.Split(System.IO.Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
        .Order(StringComparer.Ordinal)
        .Select(p => new ProjectFile(p))];

    public string Path { get; }
    public string Name { get; }
    public string AssemblyName { get; }
    public string Directory => System.IO.Path.GetDirectoryName(Path)!;
    public IReadOnlyList<string> ProjectReferences { get; }
    public IReadOnlyList<string> PackageReferences { get; }

    /// <summary>The project <paramref name="path"/> names.</summary>
    public static ProjectFile At(string path) => All.Single(p => p.Path == path);

    /// <summary>
    /// The built assembly, in the configuration these tests were built in (they build after every
    /// project: see their project file).
    /// </summary>
    public string BuiltAssembly
    {
        get
        {
            // .../tests/GpuFleet.Architecture.Tests/bin/<Configuration>/<framework>/
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
            var file = System.IO.Path.Combine(Directory, "bin", output.Parent!.Name, output.Name, AssemblyName + ".dll");
            Assert.True(File.Exists(file), $"{Name} is not built: {file} is missing (build the solution first)");
            return file;
        }
    }

    /// <summary>Names of the assemblies the built assembly references (what its code uses, as the compiler recorded it).</summary>
    public IReadOnlySet<string> ReferencedAssemblies()
    {
        using var stream = File.OpenRead(BuiltAssembly);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The assemblies a package brings to code that compiles against it, read from what restore resolved
    /// (<c>obj/project.assets.json</c>): its own compile-time assemblies, or, for a package that only
    /// gathers others (<c>xunit</c>), theirs.
    /// </summary>
    public IReadOnlySet<string> AssembliesOf(string package)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(Directory, "obj", "project.assets.json")));
        var target = assets.RootElement.GetProperty("targets").EnumerateObject().First().Value;
        var result = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var queue = new Queue<string>([package]);
        while (queue.Count > 0)
        {
            var name = queue.Dequeue();
            if (!seen.Add(name)) continue;
            var entry = target.EnumerateObject().FirstOrDefault(p => p.Name.StartsWith(name + "/", StringComparison.OrdinalIgnoreCase));
            Assert.True(entry.Value.ValueKind == JsonValueKind.Object, $"{Name}: package {name} is not in obj/project.assets.json");
            var own = entry.Value.TryGetProperty("compile", out var compile)
                ? compile.EnumerateObject().Select(c => c.Name).Where(f => f.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToList()
                : [];
            result.UnionWith(own.Select(f => System.IO.Path.GetFileNameWithoutExtension(f)));
            if (own.Count == 0 && entry.Value.TryGetProperty("dependencies", out var dependencies))
                foreach (var d in dependencies.EnumerateObject()) queue.Enqueue(d.Name);
        }
        return result;
    }

    public override string ToString() => Name;
}
