using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace GpuFleet.Executors.Slurm;

/// <summary>Runs the real Slurm tools as child processes.</summary>
internal sealed class SlurmProcessTools(SlurmExecutorOptions options) : ISlurmTools
{
    public async Task<SlurmToolResult> RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancel)
    {
        var path = options.ToolDirectory is { Length: > 0 } dir ? Path.Combine(dir, tool) : tool;
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (options.SlurmConf is { Length: > 0 } conf) psi.Environment["SLURM_CONF"] = conf;
        // Times as Unix seconds: unambiguous whatever the time zone of the tools or of this process.
        psi.Environment["SLURM_TIME_FORMAT"] = "%s";

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new ExecutorUnreachableException($"cannot run {path}");
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            throw new ExecutorUnreachableException($"cannot run {path}: {e.Message}", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, options.ToolTimeoutSeconds)));
            try
            {
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var error = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                return new SlurmToolResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
            }
            catch (OperationCanceledException e)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                cancel.ThrowIfCancellationRequested();
                throw new ExecutorUnreachableException(
                    string.Create(CultureInfo.InvariantCulture, $"{tool} did not answer within {options.ToolTimeoutSeconds} s"), e);
            }
        }
    }
}
