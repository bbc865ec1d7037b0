using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Cli.Tests;

/// <summary>A real <c>gpufleet serve</c> process on a free port, with an admin client; killed (SIGKILL) on dispose.</summary>
internal sealed class ServerProcess : IDisposable
{
    public const string AdminToken = "process-test-admin";
    /// <summary>The fleet a server runs unless told otherwise.</summary>
    public const string DefaultFleet = "fleets/korea-2026.yaml";

    private ServerProcess(Process process, HttpClient client)
    {
        Process = process;
        Client = client;
    }

    public Process Process { get; }
    public HttpClient Client { get; }

    /// <summary>Starts a server on <paramref name="database"/> (with more <paramref name="arguments"/> to <c>serve</c>) and waits until it answers <c>/healthz</c>.</summary>
    public static async Task<ServerProcess> StartAsync(string database, string fleet = DefaultFleet, double timeScale = 100, double leaseSeconds = 10,
        IReadOnlyList<string>? arguments = null)
    {
        var port = TestFiles.FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "gpufleet.dll"), "serve", "--fleet", fleet, "--db", database,
                     "--urls", $"http://127.0.0.1:{port}", "--time-scale", timeScale.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--lease-seconds", leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     // These tests load the server with one token and read every job back; rate limits have tests of their own.
                     "--rate-limit", "10000000" }.Concat(arguments ?? []))
            psi.ArgumentList.Add(a);
        psi.Environment["GPUFLEET_ADMIN_TOKEN"] = AdminToken;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        var server = new ServerProcess(process, http);
        for (var i = 0; i < 400; i++)
        {
            if (process.HasExited) break;
            if (await server.HealthAsync() is not null) return server;
            await Task.Delay(50);
        }
        server.Dispose();
        throw new InvalidOperationException("the server did not start");
    }

    /// <summary>The <c>/healthz</c> answer, or null while the server does not answer.</summary>
    public async Task<JsonElement?> HealthAsync()
    {
        try
        {
            using var r = await Client.GetAsync("/healthz");
            return r.IsSuccessStatusCode ? await r.Content.ReadFromJsonAsync<JsonElement>() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Whether this replica runs the scheduler now.</summary>
    public async Task<bool> IsLeaderAsync() => await HealthAsync() is { } h && h.GetProperty("leader").GetBoolean();

    /// <summary>SIGSTOP: the process freezes as a long GC pause or a suspended VM would, its sockets and sessions left open.</summary>
    public void Freeze() => Signal(19);

    /// <summary>SIGCONT: a frozen process carries on where it stopped.</summary>
    public void Resume() => Signal(18);

    private void Signal(int signal)
    {
        if (kill(Process.Id, signal) != 0) throw new InvalidOperationException($"kill({Process.Id}, {signal}) failed");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public void Kill()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit();
    }

    /// <summary>Every job, all pages.</summary>
    public async Task<List<JsonElement>> AllJobsAsync()
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?limit=1000&after={after}");
            all.AddRange(page.GetProperty("items").EnumerateArray());
            if (page.GetProperty("next").ValueKind == JsonValueKind.Null) return all;
            after = page.GetProperty("next").GetInt64();
        }
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) until no job is pending or running; true when that happened.</summary>
    public async Task<bool> DrainAsync(int seconds)
    {
        for (var i = 0; i < seconds * 10; i++)
        {
            if (await CountAsync("pending") == 0 && await CountAsync("running") == 0) return true;
            await Task.Delay(100);
        }
        return false;
    }

    private async Task<int> CountAsync(string state) =>
        (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?state={state}&limit=1")).GetProperty("items").GetArrayLength();

    public void Dispose()
    {
        Kill();   // SIGKILL ends a frozen process too
        Client.Dispose();
        Process.Dispose();
    }
}
