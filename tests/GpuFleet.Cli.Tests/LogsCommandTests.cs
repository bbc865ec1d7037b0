using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace GpuFleet.Cli.Tests;

/// <summary><c>gpufleet logs</c> against a real server whose log directory the test writes, as an executor would.</summary>
[Trait("Category", "Cli")]
public sealed class LogsCommandTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Logs_prints_a_jobs_log_and_follow_prints_what_it_writes_until_the_job_has_ended()
    {
        var logs = Path.GetDirectoryName(TestFiles.Temp("logs"))!;
        using var server = await ServerProcess.StartAsync(TestFiles.Temp("logs.db"), timeScale: 1, arguments: ["--log-dir", logs]);
        using var created = await server.Client.PostAsJsonAsync("/api/v1/jobs", new { tenant = "lab", gpus = 1, timeLimitSeconds = 7200, runtimeSeconds = 3600 });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var log = Path.Combine(logs, $"{id}.log");

        // No log yet: the server's problem, in one line.
        var (code, stdout, stderr) = await RunAsync(server, "logs", id.ToString());
        Assert.Equal(2, code);
        Assert.Contains($"404 job {id} has no log", stderr);

        File.WriteAllText(log, "époque 1\n");
        (code, stdout, stderr) = await RunAsync(server, "logs", id.ToString());
        Assert.True(code == 0, stderr);
        Assert.Equal("époque 1\n", stdout);

        using var follow = Start(server, "logs", id.ToString(), "--follow");
        try
        {
            Assert.Equal("époque 1", await follow.StandardOutput.ReadLineAsync().WaitAsync(Deadline));
            File.AppendAllText(log, "époque 2\n");
            Assert.Equal("époque 2", await follow.StandardOutput.ReadLineAsync().WaitAsync(Deadline));
            // Written as the job ends: printed before follow stops.
            File.AppendAllText(log, "done\n");
            using (var cancelled = await server.Client.DeleteAsync($"/api/v1/jobs/{id}"))
                Assert.True(cancelled.IsSuccessStatusCode);
            var rest = await follow.StandardOutput.ReadToEndAsync().WaitAsync(Deadline);
            await follow.WaitForExitAsync().WaitAsync(Deadline);
            Assert.True(follow.ExitCode == 0, await follow.StandardError.ReadToEndAsync());
            Assert.Equal("done\n", rest);
        }
        finally
        {
            if (!follow.HasExited) follow.Kill();
        }

        (code, _, stderr) = await RunAsync(server, "logs", (id + 1000).ToString());
        Assert.Equal(2, code);
        Assert.Contains("404", stderr);
    }

    private static Process Start(ServerProcess server, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "gpufleet.dll"), args[0], "--server", server.Client.BaseAddress!.ToString(), "--token", ServerProcess.AdminToken }.Concat(args[1..]))
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(ServerProcess server, params string[] args)
    {
        using var p = Start(server, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(Deadline);
        return (p.ExitCode, await stdout, await stderr);
    }
}
