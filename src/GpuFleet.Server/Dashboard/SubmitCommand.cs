using System.Globalization;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// A job's submission as the <c>gpufleet submit</c> command line that makes the same job, each word
/// quoted for a POSIX shell where it needs it, and as the YAML job file <c>gpufleet submit --file</c>
/// reads (the API's field names, fields at their defaults left out). Example: 8 GPUs of B200 for 4 h, tenant startups,
/// command <c>python train.py</c> is
/// <c>gpufleet submit --tenant startups --name train --gpus 8 --model B200 --time 14400 -- 'python train.py'</c>.
/// </summary>
internal static class SubmitCommand
{
    /// <summary>The command line.</summary>
    public static string Of(NewJob job)
    {
        var words = new List<string> { "gpufleet", "submit", "--tenant", job.Tenant, "--name", job.Name, "--gpus", Number(job.Gpus) };
        foreach (var m in job.Models) words.AddRange(["--model", m]);
        words.AddRange(["--time", Number(job.TimeLimitSeconds)]);
        if (job.Priority != 0) words.AddRange(["--priority", Number(job.Priority)]);
        if (job.PriorityClass is { } c) words.AddRange(["--class", c]);
        if (job.Topology != TopologyNeed.Site) words.AddRange(["--topology", JobFieldRules.TopologyName(job.Topology)]);
        if (job.Site is { } s) words.AddRange(["--site", s]);
        if (job.DataSite is { } d) words.AddRange(["--data-site", d]);
        if (job.DataGb != 0) words.AddRange(["--data-gb", job.DataGb.ToString(CultureInfo.InvariantCulture)]);
        if (job.CheckpointSeconds != 0) words.AddRange(["--checkpoint", Number(job.CheckpointSeconds)]);
        if (job.CpusPerGpu != 0) words.AddRange(["--cpus-per-gpu", job.CpusPerGpu.ToString(CultureInfo.InvariantCulture)]);
        if (job.MemoryGbPerGpu != 0) words.AddRange(["--memory-gb-per-gpu", job.MemoryGbPerGpu.ToString(CultureInfo.InvariantCulture)]);
        if (job.Slice is { } slice) words.AddRange(["--slice", JobFieldRules.SliceCell(slice)]);
        var line = string.Join(' ', words.Select(Quote));
        return job.Command is { Length: > 0 } command ? $"{line} -- {Quote(command)}" : line;
    }

    /// <summary>The job file.</summary>
    public static string JobFile(NewJob job)
    {
        var fields = new Dictionary<string, object>
        {
            ["name"] = job.Name, ["tenant"] = job.Tenant, ["gpus"] = job.Gpus, ["models"] = job.Models.ToArray(), ["timeLimitSeconds"] = job.TimeLimitSeconds,
        };
        if (job.Priority != 0) fields["priority"] = job.Priority;
        if (job.PriorityClass is { } c) fields["priorityClass"] = c;
        if (job.Topology != TopologyNeed.Site) fields["topology"] = JobFieldRules.TopologyName(job.Topology);
        if (job.Site is { } s) fields["site"] = s;
        if (job.DataSite is { } d) fields["dataSite"] = d;
        if (job.DataGb != 0) fields["dataGb"] = job.DataGb;
        if (job.CheckpointSeconds != 0) fields["checkpointSeconds"] = job.CheckpointSeconds;
        if (job.CpusPerGpu != 0) fields["cpusPerGpu"] = job.CpusPerGpu;
        if (job.MemoryGbPerGpu != 0) fields["memoryGbPerGpu"] = job.MemoryGbPerGpu;
        if (job.Slice is { } slice)
            fields["slice"] = slice.MigProfile is { } profile
                ? new Dictionary<string, object> { ["migProfile"] = profile }
                : new Dictionary<string, object> { ["gpuFraction"] = slice.GpuFraction, ["gpuMemoryGb"] = slice.GpuMemoryGb };
        if (job.RuntimeSeconds is { } r) fields["runtimeSeconds"] = r;
        if (job.Command is { Length: > 0 } command) fields["command"] = command;
        return new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(fields);
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    // Plain words stay as they are; anything else is single-quoted, a quote inside written '\''.
    private static string Quote(string word) =>
        word.Length > 0 && word.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,+@%".Contains(ch))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
