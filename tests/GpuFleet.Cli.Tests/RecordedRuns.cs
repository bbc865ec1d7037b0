using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GpuFleet.Cli.Tests;

/// <summary>
/// Every run of every job, replayed from the jobs' recorded histories rather than from any scheduler's
/// own view: a run starts at a "running" event (whose detail names each node and its GPUs, as
/// <c>nodes 12[0-3],13[0-7]</c>) and ends at the job's next event.
/// </summary>
internal static partial class RecordedRuns
{
    public sealed record Run(long Job, long Start, long End, IReadOnlyList<(int Node, int Gpu)> Gpus);

    /// <summary>The runs of <paramref name="jobs"/>, read from the server; each run holds exactly the job's GPU count.</summary>
    public static async Task<List<Run>> ReadAsync(HttpClient http, IEnumerable<JsonElement> jobs)
    {
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
                var held = Gpus(history[i].GetProperty("detail").GetString() ?? "");
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

    private static List<(int Node, int Gpu)> Gpus(string detail)
    {
        var list = new List<(int, int)>();
        foreach (Match m in NodePattern().Matches(detail))
        {
            var node = int.Parse(m.Groups[1].Value);
            foreach (var range in m.Groups[2].Value.Split(','))
            {
                var bounds = range.Split('-').Select(int.Parse).ToArray();
                for (var g = bounds[0]; g <= bounds[^1]; g++) list.Add((node, g));
            }
        }
        return list;
    }

    [GeneratedRegex(@"(\d+)\[([0-9,\-]+)\]")]
    private static partial Regex NodePattern();

    private static long At(JsonElement e) => e.GetProperty("at").GetDateTimeOffset().ToUnixTimeMilliseconds();
}
