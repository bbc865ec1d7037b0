using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// A closed-loop load: <c>clients</c> callers each submit, wait for the answer, and submit again.
/// The first <c>warmup</c> seconds are run but not counted (the JIT, connection pools and caches
/// settle then); rate and latency percentiles count the submissions that started within the next
/// <c>seconds</c>. Example: 64 clients, 2 s warm-up, 10 s measured → submissionsPerSecond is the
/// successful submissions started in seconds 2–12, divided by 10.
/// </summary>
internal static class ClosedLoopLoad
{
    /// <summary>Runs the load; <paramref name="submit"/> (client index, its random source) answers whether the submission succeeded.</summary>
    public static JsonObject Run(int clients, double warmup, double seconds, Func<int, Random, Task<bool>> submit)
    {
        var latencies = new ConcurrentBag<double>();
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var rng = new Random(c);
            while (true)
            {
                var start = clock.Elapsed.TotalSeconds;
                if (start >= warmup + seconds) return;
                var ok = await submit(c, rng);
                if (start < warmup) continue;
                if (ok) latencies.Add((clock.Elapsed.TotalSeconds - start) * 1000);
                else Interlocked.Increment(ref failures);
            }
        })).ToArray();
        Task.WaitAll(tasks);
        var sorted = latencies.Order().ToArray();
        return new JsonObject
        {
            ["warmupSeconds"] = warmup,
            ["seconds"] = seconds,
            ["submitted"] = sorted.Length,
            ["failed"] = failures,
            ["submissionsPerSecond"] = Math.Round(sorted.Length / seconds, 1),
            ["latencyMsP50"] = Math.Round(Percentile.OfSorted(sorted, 0.5), 2),
            ["latencyMsP99"] = Math.Round(Percentile.OfSorted(sorted, 0.99), 2),
        };
    }
}
