using GpuFleet.Core.Fleets;
using GpuFleet.Data;
using Spectre.Console;

namespace GpuFleet.Cli.Commands;

/// <summary>Runs a command body and turns bad input into a one-line error and exit code 2, never a stack trace.</summary>
internal static class CliRunner
{
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (DataFileException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is CliUsageException or FleetValidationException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }
    }

    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }

    /// <summary>Reports progress: a live bar on a terminal, a line per 10% otherwise.</summary>
    public static T WithProgress<T>(string label, Func<Action<double>, T> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsErrorRedirected && !Console.IsOutputRedirected)
        {
            T result = default!;
            AnsiConsole.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), maxValue: 1.0);
                result = work(f => task.Value = f);
            });
            return result;
        }
        var lastDecile = -1;
        return work(f =>
        {
            var decile = (int)(f * 10);
            if (decile == lastDecile) return;
            lastDecile = decile;
            Console.Error.WriteLine($"{label}: {decile * 10}%");
        });
    }
}
