using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuFleet.Simulation.Reports;

/// <summary>
/// The JSON report of a comparison of policies, keyed by policy, each with its run's wall-clock seconds
/// beside its figures — what <c>gpufleet simulate --json</c> writes and the server's twin runs answer, so
/// that the two are the same text for the same inputs (wall-clock time aside).
/// Example: <c>{"fifo": {"policy": "fifo", "jobs": 2000, ..., "wallSeconds": 0.41}, "backfill": {...}}</c>.
/// </summary>
public static class PolicyReportJson
{
    /// <summary>How the report is written: camelCase names, indented.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The report of <paramref name="results"/>, in their order, ending with a newline.</summary>
    public static string Write(IEnumerable<(SimulationResult Result, double WallSeconds)> results)
    {
        var root = new JsonObject();
        foreach (var (result, wall) in results)
        {
            var node = JsonSerializer.SerializeToNode(result.Report, Options)!.AsObject();
            node["wallSeconds"] = Math.Round(wall, 3);
            root[result.Report.Policy] = node;
        }
        return root.ToJsonString(Options) + "\n";
    }
}
