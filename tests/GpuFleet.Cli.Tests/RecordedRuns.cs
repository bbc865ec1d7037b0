using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using GpuFleet.Core.Fleets;
using GpuFleet.Data.Fleets;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// Every run of every job, replayed from the jobs' recorded histories rather than from any scheduler's
/// own view: a run starts at a "running" event (whose detail names its nodes as a host list, with the GPUs
/// of nodes held only in part, as <c>placed on s/M: nodes s-m-[0001-0002],s-m-0007 (GPUs 0-3)</c>) and ends
/// at the job's next event. Node names are read against the server's fleet file; a detail that does not
/// read exactly so fails the test.
/// </summary>
internal static partial class RecordedRuns
{
    public sealed record Run(long Job, long Start, long End, IReadOnlyList<(int Node, int Gpu)> Gpus);

    /// <summary>
    /// The runs of <paramref name="jobs"/>, read from the server that runs the fleet of <paramref name="fleetFile"/>
    /// (relative to the repository root); each run holds exactly the job's GPU count.
    /// </summary>
    public static async Task<List<Run>> ReadAsync(HttpClient http, IEnumerable<JsonElement> jobs, string fleetFile)
    {
        var fleet = FleetFile.Load(Path.Combine(TestFiles.Root, fleetFile));
        var runs = new List<Run>();
        foreach (var j in jobs)
        {
            var id = j.GetProperty("id").GetInt64();
            var gpus = j.GetProperty("gpus").GetInt32();
            var history = (await http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}")).GetProperty("history").EnumerateArray().ToList();
            for (var i = 0; i < history.Count; i++)
            {
                if (history[i].GetProperty("state").GetString() != "running") continue;
                Assert.True(i + 1 < history.Count, $"job {id} ended running");
                var held = Gpus(history[i].GetProperty("detail").GetString() ?? "", fleet);
                Assert.True(held.Count == gpus, $"job {id} asked for {gpus} GPUs, a run held {held.Count}: {history[i].GetProperty("detail")}");
                Assert.Equal(held.Count, held.Distinct().Count());
                runs.Add(new Run(id, At(history[i]), At(history[i + 1]), held));
            }
        }
        return runs;
    }

    /// <summary>
    /// Fails if any GPU was held by two runs at once (a job placed twice, or one GPU given to two jobs by
    /// two leaders, would); answers the most GPUs held at one moment.
    /// </summary>
    public static int AssertNoGpuHeldTwice(IReadOnlyList<Run> runs)
    {
        var holder = new Dictionary<(int Node, int Gpu), long>();
        var held = 0;
        var peak = 0;
        // Ends before starts at the same millisecond: a requeue and the next placement may share one.
        var events = runs.SelectMany(r => new[] { (At: r.End, Start: false, Run: r), (At: r.Start, Start: true, Run: r) })
            .OrderBy(e => e.At).ThenBy(e => e.Start);
        foreach (var (at, start, run) in events)
        {
            foreach (var gpu in run.Gpus)
            {
                if (!start)
                {
                    holder.Remove(gpu);
                    continue;
                }
                Assert.False(holder.TryGetValue(gpu, out var other),
                    $"GPU {gpu.Gpu} of node {gpu.Node} held by job {other} and job {run.Job} at {DateTimeOffset.FromUnixTimeMilliseconds(at):O}");
                holder[gpu] = run.Job;
            }
            held += start ? run.Gpus.Count : -run.Gpus.Count;
            peak = Math.Max(peak, held);
        }
        return peak;
    }

    private static List<(int Node, int Gpu)> Gpus(string detail, Fleet fleet)
    {
        var placed = PlacedPattern().Match(detail);
        Assert.True(placed.Success, $"not a placement: '{detail}'");
        var list = new List<(int, int)>();
        foreach (var element in Elements(placed.Groups[1].Value))
        {
            var m = ElementPattern().Match(element);
            Assert.True(m.Success, $"'{element}' is neither nodes nor a node with its GPUs in '{detail}'");
            foreach (var name in HostList.Expand(m.Groups["hosts"].Value))
            {
                var node = fleet.NodeIndex(name);
                Assert.True(node >= 0, $"no node '{name}' in fleet {fleet.Name}: '{detail}'");
                if (!m.Groups["gpus"].Success)
                {
                    for (var g = 0; g < fleet.NodeGpus(node); g++) list.Add((node, g));
                    continue;
                }
                foreach (var range in m.Groups["gpus"].Value.Split(','))
                {
                    var bounds = range.Split('-').Select(int.Parse).ToArray();
                    for (var g = bounds[0]; g <= bounds[^1]; g++)
                    {
                        Assert.InRange(g, 0, fleet.NodeGpus(node) - 1);
                        list.Add((node, g));
                    }
                }
            }
        }
        return list;
    }

    // Comma-separated elements; commas inside brackets or parentheses belong to their element.
    private static IEnumerable<string> Elements(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '[' or '(') depth++;
            else if (text[i] is ']' or ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    [GeneratedRegex(@"^placed on [^ ]+/[^ ]+: nodes (.+)$")]
    private static partial Regex PlacedPattern();

    [GeneratedRegex(@"^(?<hosts>[A-Za-z0-9._\-\[\],]+)( \(GPUs? (?<gpus>[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)\))?$")]
    private static partial Regex ElementPattern();

    private static long At(JsonElement e) => e.GetProperty("at").GetDateTimeOffset().ToUnixTimeMilliseconds();
}
