using System.Diagnostics;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// <c>--help</c> of every command and subcommand, found by walking the help itself, with secrets in every
/// environment variable the program reads: none of them may be printed.
/// </summary>
[Trait("Category", "Cli")]
public sealed class HelpTests
{
    private static readonly Dictionary<string, string> Secrets = new()
    {
        ["GPUFLEET_TOKEN"] = "secret-xyz",
        ["GPUFLEET_ADMIN_TOKEN"] = "secret-admin-xyz",
        ["GPUFLEET_SERVER"] = "http://user:secret-password@127.0.0.1:5080",
    };

    [Fact]
    public void No_help_prints_a_token_or_password_from_the_environment()
    {
        var seen = new List<string>();
        var queue = new Queue<string[]>([[]]);
        while (queue.Count > 0)
        {
            var command = queue.Dequeue();
            var help = Help(command);
            seen.Add(string.Join(' ', command));
            // Every secret above has "secret" in it, and no help text has the word of its own.
            Assert.False(help.Contains("secret", StringComparison.OrdinalIgnoreCase),
                $"'gpufleet {string.Join(' ', command)} --help' prints a secret from the environment:\n{help}");
            foreach (var sub in Subcommands(help)) queue.Enqueue([.. command, sub]);
        }
        // The walk must have reached the client commands, which read the token, and a nested one.
        Assert.Contains("jobs", seen);
        Assert.Contains("submit", seen);
        Assert.Contains("fleet show", seen);
        Assert.True(seen.Count >= 15, $"only {seen.Count} commands found: {string.Join(", ", seen)}");
    }

    private static string Help(string[] command)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpufleet.dll"));
        foreach (var word in command) psi.ArgumentList.Add(word);
        psi.ArgumentList.Add("--help");
        psi.Environment["COLUMNS"] = "200";
        foreach (var (variable, secret) in Secrets) psi.Environment[variable] = secret;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"gpufleet {string.Join(' ', command)} --help exited {p.ExitCode}: {stderr}");
        return stdout.Result + stderr;
    }

    // The names listed under "Commands:" (the first word of each entry).
    private static IEnumerable<string> Subcommands(string help)
    {
        var inCommands = false;
        foreach (var line in help.Split('\n'))
        {
            if (line.TrimEnd() == "Commands:")
            {
                inCommands = true;
                continue;
            }
            if (!inCommands) continue;
            if (line.Trim().Length == 0 || !line.StartsWith("  ", StringComparison.Ordinal)) break;
            // Continuation lines of a wrapped description are indented further than the names.
            if (line.StartsWith("   ", StringComparison.Ordinal)) continue;
            yield return line.Trim().Split(' ', '<')[0];
        }
    }
}
