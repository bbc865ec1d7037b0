namespace GpuFleet.Architecture.Tests;

/// <summary>
/// What each project may depend on: the scheduling core on nothing but the runtime, and no project on a
/// project or package it does not use (an unused reference still costs restore and build time, ships its
/// assemblies, and tells the reader a dependency exists that does not).
/// </summary>
[Trait("Category", "Unit")]
public sealed class DependencyTests
{
    /// <summary>
    /// Packages that no code references by design: they plug the tests into <c>dotnet test</c> and IDEs
    /// (the test host and the xunit adapter), so their absence from the assembly's references proves nothing.
    /// </summary>
    private static readonly HashSet<string> TestRunnerPackages = new(StringComparer.OrdinalIgnoreCase)
    {
        "Microsoft.NET.Test.Sdk",
        "xunit.runner.visualstudio",
    };

    /// <summary>
    /// Project references kept for what a test runs rather than what its code calls: the CLI tests start the
    /// built <c>gpufleet</c> program as a process, so it must be built and copied next to them.
    /// </summary>
    private static readonly HashSet<(string Project, string Reference)> ProgramsUnderTest =
    [
        ("GpuFleet.Cli.Tests", "GpuFleet.Cli"),
    ];

    [Fact]
    public void The_core_depends_on_nothing_but_the_runtime()
    {
        var core = ProjectFile.All.Single(p => p.Name == "GpuFleet.Core");
        Assert.Empty(core.ProjectReferences);
        Assert.Empty(core.PackageReferences);
        var foreign = core.ReferencedAssemblies().Where(a => a != "netstandard" && a != "System" && !a.StartsWith("System.", StringComparison.Ordinal));
        Assert.Empty(foreign);
    }

    [Fact]
    public void Every_project_reference_is_used_by_the_code()
    {
        var unused = new List<string>();
        foreach (var project in ProjectFile.All)
        {
            var used = project.ReferencedAssemblies();
            foreach (var path in project.ProjectReferences)
            {
                var reference = ProjectFile.At(path);
                if (ProgramsUnderTest.Contains((project.Name, reference.Name))) continue;
                if (!used.Contains(reference.AssemblyName)) unused.Add($"{project.Name} → {reference.Name}");
            }
        }
        Assert.True(unused.Count == 0, "project references no code uses:\n" + string.Join('\n', unused));
    }

    [Fact]
    public void Every_package_reference_is_used_by_the_code()
    {
        var unused = new List<string>();
        foreach (var project in ProjectFile.All)
        {
            var used = project.ReferencedAssemblies();
            foreach (var package in project.PackageReferences.Where(p => !TestRunnerPackages.Contains(p)))
            {
                var brings = project.AssembliesOf(package);
                if (!brings.Overlaps(used)) unused.Add($"{project.Name} → {package} ({string.Join(", ", brings)})");
            }
        }
        Assert.True(unused.Count == 0, "package references no code uses:\n" + string.Join('\n', unused));
    }

    [Fact]
    public void The_projects_found_are_the_solutions_projects()
    {
        // A project missing here would escape every check above.
        var solution = File.ReadAllText(Path.Combine(TestFiles.Root, "GpuFleet.slnx"));
        foreach (var project in ProjectFile.All)
            Assert.Contains(Path.GetRelativePath(TestFiles.Root, project.Path).Replace('\\', '/'), solution);
        Assert.True(ProjectFile.All.Count >= 12, $"only {ProjectFile.All.Count} projects found");
    }
}
