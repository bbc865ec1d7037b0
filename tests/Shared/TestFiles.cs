namespace GpuFleet.Tests.Shared;

/// <summary>Paths of the repository's own files (fleets, sample trace), found from the test's directory.</summary>
internal static class TestFiles
{
    public static string Root { get; } = FindRoot();

    public static string Fleet(string name) => Path.Combine(Root, "fleets", name);
    public static string Tenants(string name) => Path.Combine(Root, "tenants", name);
    public static string SampleTrace => Path.Combine(Root, "traces", "philly-2017-10.csv.gz");

    public static string Temp(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "gpufleet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    /// <summary>A TCP port free at the moment of asking, for a server started by a test.</summary>
    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GpuFleet.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
