using System.Diagnostics;
using Microsoft.Playwright;

namespace GpuFleet.Dashboard.Tests;

/// <summary>
/// One server and one headless Chromium shared by a test class. Debian's Chromium is used as it is
/// (Playwright downloads no browser); when it is missing it is installed with apt-get, as root.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    internal DashboardServer Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>A running job of tenant a that takes the whole fleet, so that every later job waits.</summary>
    public long FleetFiller { get; private set; }

    /// <summary>Where screenshots go: TestResults/dashboard at the repository's root (kept out of git).</summary>
    public string Screenshots { get; } = ScreenshotDirectory();

    public async Task InitializeAsync()
    {
        EnsureChromium();
        Server = await DashboardServer.StartAsync();
        FleetFiller = await Server.SubmitAsync("a", 16, "filler", topology: "anywhere", command: "python train.py --epochs 3");
        Server.Tick();
        Assert.Equal("running", await Server.StateAsync(FleetFiller));
        await File.WriteAllTextAsync(Path.Combine(Server.LogDirectory, $"{FleetFiller}.log"), "epoch 1 loss 0.93\n<b>not markup</b>\n");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
    }

    private static void EnsureChromium()
    {
        if (File.Exists(ChromiumPath)) return;
        if (Environment.UserName != "root")
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium package (apt-get install -y chromium) or run the tests as root");
        Run("apt-get", "update", "-q");
        Run("apt-get", "install", "-y", "-q", "chromium");
        if (!File.Exists(ChromiumPath)) throw new InvalidOperationException($"apt-get installed chromium but {ChromiumPath} is still missing");
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {errors}{output.Result}");
    }

    private static string ScreenshotDirectory()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "GpuFleet.slnx"))) root = root.Parent;
        var directory = Path.Combine(root?.FullName ?? AppContext.BaseDirectory, "TestResults", "dashboard");
        Directory.CreateDirectory(directory);
        return directory;
    }
}
