using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace GpuFleet.Cli.Tests;

/// <summary><c>gpufleet service …</c> against a real server: create from flags and from a file, list, show, load, scale, delete, and refusals.</summary>
[Trait("Category", "Cli")]
public sealed class ServiceCommandTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_service_commands_create_scale_and_delete_a_service_and_print_refusals_with_exit_code_2()
    {
        using var server = await ServerProcess.StartAsync(TestFiles.Temp("services.db"), timeScale: 1);
        var (code, stdout, stderr) = await RunAsync(server, "service", "create", "--name", "chat", "--tenant", "lab", "--gpus-per-replica", "1",
            "--min", "1", "--max", "6", "--rps-per-replica", "100", "--target", "0.5");
        Assert.True(code == 0, stderr);
        Assert.Equal("service chat created: 1 replicas wanted", stdout.Trim());

        var file = TestFiles.Temp("svc.yaml");
        File.WriteAllLines(file, ["name: embed", "tenant: lab", "gpusPerReplica: 2", "maxReplicas: 3", "requestsPerSecondPerReplica: 40", "models: [B200]", "cpusPerGpu: 4", "standbyReplicas: 1"]);
        (code, stdout, stderr) = await RunAsync(server, "service", "create", "--file", file, "--min", "2", "--json");
        Assert.True(code == 0, stderr);
        var embed = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal((2, 2, "B200", 4.0), (embed.GetProperty("gpusPerReplica").GetInt32(), embed.GetProperty("minReplicas").GetInt32(),
            embed.GetProperty("models")[0].GetString(), embed.GetProperty("cpusPerGpu").GetDouble()));
        Assert.Equal(1, embed.GetProperty("standbyReplicas").GetInt32());
        (code, stdout, stderr) = await RunAsync(server, "service", "show", "embed");
        Assert.True(code == 0, stderr);
        Assert.Contains("(1 of them to stand by beyond those wanted)", stdout);

        (code, stdout, stderr) = await RunAsync(server, "service", "load", "chat", "--rps", "240");
        Assert.True(code == 0, stderr);
        Assert.Equal("service chat: 240 requests/s, 5 replicas wanted", stdout.Trim());
        // The server's own loop scales: five replicas run within a few cycles.
        JsonElement chat = default;
        for (var until = DateTime.UtcNow + Deadline; DateTime.UtcNow < until; await Task.Delay(200))
        {
            (code, stdout, stderr) = await RunAsync(server, "service", "show", "chat", "--json");
            Assert.True(code == 0, stderr);
            chat = JsonDocument.Parse(stdout).RootElement;
            if (chat.GetProperty("runningReplicas").GetInt32() == 5) break;
        }
        Assert.Equal(5, chat.GetProperty("runningReplicas").GetInt32());
        (code, stdout, stderr) = await RunAsync(server, "service", "show", "chat");
        Assert.True(code == 0, stderr);
        Assert.Contains("service chat · tenant lab · 1 GPUs a replica · 1-6 replicas", stdout);
        Assert.Contains("replicas: 5 wanted, 5 running, 0 pending", stdout);
        Assert.Matches(@"running  job \d+ at \S+: \S+", stdout);

        (code, stdout, stderr) = await RunAsync(server, "service", "list", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(["chat", "embed"], JsonDocument.Parse(stdout).RootElement.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        (code, stdout, stderr) = await RunAsync(server, "service", "list");
        Assert.True(code == 0, stderr);
        Assert.Contains("embed", stdout);

        (code, stdout, stderr) = await RunAsync(server, "service", "scale", "chat", "--replicas", "2");
        Assert.True(code == 0, stderr);
        Assert.Equal("service chat: 2 replicas wanted (pinned to 2)", stdout.Trim());
        (code, stdout, stderr) = await RunAsync(server, "service", "scale", "chat", "--auto");
        Assert.True(code == 0, stderr);
        Assert.Equal("service chat: 5 replicas wanted (by its rate)", stdout.Trim());

        // Refusals: the server's problem in one line, exit code 2.
        (code, _, stderr) = await RunAsync(server, "service", "scale", "chat", "--replicas", "9");
        Assert.Equal(2, code);
        Assert.Contains("400 replicas: must be from 0 to the service's maxReplicas (6)", stderr);
        (code, _, stderr) = await RunAsync(server, "service", "scale", "chat");
        Assert.Equal(2, code);
        Assert.Contains("give --replicas N or --auto", stderr);
        (code, _, stderr) = await RunAsync(server, "service", "create", "--name", "spare", "--tenant", "lab", "--max", "2", "--rps-per-replica", "1", "--standby", "3");
        Assert.Equal(2, code);
        Assert.Contains("standbyReplicas: must be at least 0 and at most maxReplicas (2), not 3", stderr);
        (code, _, stderr) = await RunAsync(server, "service", "create", "--name", "chat", "--tenant", "lab", "--max", "2", "--rps-per-replica", "1");
        Assert.Equal(2, code);
        Assert.Contains("409 a service named 'chat' exists", stderr);
        (code, _, stderr) = await RunAsync(server, "service", "create", "--name", "wide", "--tenant", "lab", "--max", "2", "--rps-per-replica", "1", "--target", "2");
        Assert.Equal(2, code);
        Assert.Contains("400 targetUtilization: must be above 0 and at most 1", stderr);
        File.WriteAllLines(file, ["name: typo", "tenant: lab", "maxReplica: 3"]);
        (code, _, stderr) = await RunAsync(server, "service", "create", "--file", file);
        Assert.Equal(2, code);
        Assert.Contains($"--file: {file}: unknown key 'maxReplica'", stderr);
        (code, _, stderr) = await RunAsync(server, "service", "show", "nothing");
        Assert.Equal(2, code);
        Assert.Contains("404 no service 'nothing'", stderr);

        (code, stdout, stderr) = await RunAsync(server, "service", "delete", "chat");
        Assert.True(code == 0, stderr);
        Assert.Equal("service chat deleted", stdout.Trim());
        (code, _, stderr) = await RunAsync(server, "service", "show", "chat");
        Assert.Equal(2, code);
        Assert.Contains("404", stderr);
    }

    // gpufleet <group> <verb> --server … --token … <rest>.
    private static async Task<(int Code, string Out, string Err)> RunAsync(ServerProcess server, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        psi.Environment["COLUMNS"] = "200";
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "gpufleet.dll"), args[0], args[1], "--server", server.Client.BaseAddress!.ToString(),
                     "--token", ServerProcess.AdminToken }.Concat(args[2..]))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(Deadline);
        return (p.ExitCode, await stdout, await stderr);
    }
}
