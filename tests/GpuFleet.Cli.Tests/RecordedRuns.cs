using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using GpuFleet.Core.Fleets;
using GpuFleet.Data.Fleets;
using GpuFleet.Server.Hosting;

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

    // The product's own reader of placement texts (unit-tested against its writer in PlacementTextTests);
    // here every GPU it reads back must exist in the fleet.
    private static List<(int Node, int Gpu)> Gpus(string detail, Fleet fleet)
    {
        Assert.True(PlacedPattern().IsMatch(detail), $"not a placement: '{detail}'");
        var nodes = PlacementText.Parse(detail, fleet);
        Assert.True(nodes is not null, $"a placement that names no node of fleet {fleet.Name} this way: '{detail}'");
        var list = new List<(int, int)>();
        foreach (var n in nodes)
        {
            var node = fleet.NodeIndex(n.Name);
            Assert.True(node >= 0, $"no node '{n.Name}' in fleet {fleet.Name}: '{detail}'");
            foreach (var g in n.Gpus)
            {
                Assert.InRange(g, 0, fleet.NodeGpus(node) - 1);
                list.Add((node, g));
            }
        }
        return list;
    }

    [GeneratedRegex(@"^placed on [^ ]+/[^ ]+: nodes (.+)$")]
    private static partial Regex PlacedPattern();


    private static long At(JsonElement e) => e.GetProperty("at").GetDateTimeOffset().ToUnixTimeMilliseconds();
}
