namespace GpuFleet.Executors.Tests;

/// <summary>What <c>/proc</c> shows, read here independently of the executor's own reader.</summary>
internal static class Processes
{
    /// <summary>A process that exists and has not ended (a zombie has: it waits to be reaped and holds nothing).</summary>
    public static bool Runs(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The running processes whose environment holds <c>GPUFLEET_JOB_ID=<paramref name="jobId"/></c>, with their command names.</summary>
    public static List<(int Pid, string Name)> OfJob(long jobId)
    {
        var found = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains($"GPUFLEET_JOB_ID={jobId}") || !Runs(pid)) continue;
                found.Add((pid, File.ReadAllText(Path.Combine(dir, "comm")).Trim()));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours.
            }
        }
        return found;
    }
}
