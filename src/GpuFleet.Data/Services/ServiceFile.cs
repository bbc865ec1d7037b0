using System.Globalization;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Services;
using GpuFleet.Core.Workloads;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Yaml;

namespace GpuFleet.Data.Services;

/// <summary>
/// A services file for the twin (<c>docs/services.md</c>): YAML listing inference services, each with every
/// field of a <see cref="ServiceSpec"/> and a <c>rate</c> curve — inline <c>points</c>, or a CSV file of
/// <c>seconds,requestsPerSecond</c>, or the Alibaba GenAI request-rate trace (<c>qps.csv.gz</c>:
/// <c>timestamp_anon,value,container_ip,request_type</c>) summed per window — scaled by <c>scale</c> and
/// shifted by <c>shiftSeconds</c>. A CSV path is relative to the services file. Every error names the file,
/// the line and the field.
/// <code>
/// services:
///   - name: chat
///     tenant: vision
///     gpusPerReplica: 1
///     minReplicas: 1
///     maxReplicas: 16
///     requestsPerSecondPerReplica: 4
///     targetUtilization: 0.7
///     priorityClass: production
///     region: Seoul
///     latencyBudgetMs: 5
///     standbyReplicas: 2               # optional: replicas held ready beyond the rate's, for scale-ups at once
///     rate: { csv: ../traces/rates/alibaba-genai-rate.csv, scale: 2, shiftSeconds: 3600 }
/// </code>
/// </summary>
public static class ServiceFile
{
    /// <summary>The header of a plain rate curve.</summary>
    public const string RateHeader = "seconds,requestsPerSecond";

    /// <summary>The header of the Alibaba GenAI request-rate trace (<c>cluster-trace-v2026-GenAI/qps.csv</c>).</summary>
    public const string GenAiHeader = "timestamp_anon,value,container_ip,request_type";

    // A bound far beyond any run, so that times added together cannot overflow.
    private const long MaxSeconds = 100L * 365 * 86_400;

    /// <summary>Reads and checks a services file; with a fleet, model and site names are checked against it.</summary>
    /// <exception cref="DataFileException">The file, or a rate curve it names, is missing or has a bad field.</exception>
    public static IReadOnlyList<ServiceLoad> Load(string path, Fleet? fleet = null)
    {
        if (!File.Exists(path)) throw new DataFileException(path, 0, "file", "not found");
        using var reader = new StreamReader(path);
        return Parse(reader, path, fleet);
    }

    /// <summary>Parses services YAML; <paramref name="file"/> names it in errors and is where relative CSV paths start.</summary>
    public static IReadOnlyList<ServiceLoad> Parse(TextReader text, string file, Fleet? fleet = null)
    {
        var root = YamlMap.Document(text, file);
        root.Allow("name", "description");
        var loads = new List<ServiceLoad>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in root.List("services"))
        {
            var spec = Service(m, fleet);
            if (!names.Add(spec.Name)) throw m.Error("name", $"duplicate service '{spec.Name}'");
            var rate = m.Mapping("rate") ?? throw m.Error("rate", "is required (points, or a csv file)");
            var load = new ServiceLoad(spec, Rate(rate, file));
            if (load.RateProblem() is { } problem) throw rate.Error("points", problem);
            m.Allow("notes");
            m.RejectUnknown();
            loads.Add(load);
        }
        root.RejectUnknown();
        if (loads.Count == 0) throw root.Error("services", "at least one service is required");
        return loads;
    }

    private static ServiceSpec Service(YamlMap m, Fleet? fleet)
    {
        var spec = new ServiceSpec(m.Text("name"), m.Text("tenant"), m.Integer("gpusPerReplica", 1, min: 1), m.Integer("minReplicas", 0, min: 0),
            m.Integer("maxReplicas", min: 1), m.Number("requestsPerSecondPerReplica", min: 0, exclusiveMin: true),
            m.Number("targetUtilization", 1, min: 0, max: 1, exclusiveMin: true))
        {
            Models = m.TextList("models"),
            Slice = m.Has("slice") ? Slice(m) : null,
            CpusPerGpu = m.Number("cpusPerGpu", 0, min: 0),
            MemoryGbPerGpu = m.Number("memoryGbPerGpu", 0, min: 0),
            PriorityClass = m.Has("priorityClass") ? m.Text("priorityClass") : null,
            Region = m.Has("region") ? m.Text("region") : null,
            LatencyBudgetMs = m.OptionalNumber("latencyBudgetMs", min: 0, exclusiveMin: true),
            StandbyReplicas = m.Integer("standbyReplicas", 0, min: 0),
        };
        if (ServiceScaler.Problem(spec) is { } problem) throw m.Error(problem.Field, problem.Problem);
        if (fleet is not null)
        {
            foreach (var model in spec.Models)
                if (fleet.ModelIndex(model) < 0) throw m.Error("models", $"unknown GPU model '{model}' (the fleet has {string.Join(", ", fleet.Models.Select(x => x.Name))})");
            if (spec.Region is { } region && !fleet.Sites.Any(s => s.Region == region))
                throw m.Error("region", $"no site of the fleet is in region '{region}' (regions: {string.Join(", ", fleet.Sites.Select(s => s.Region).Distinct())})");
        }
        return spec;
    }

    /// <summary>A slice as traces spell it: <c>mig:1g.10gb</c>, or <c>0.25:20</c> (fraction of the GPU : memory GB).</summary>
    private static SliceRequest Slice(YamlMap m)
    {
        var text = m.Text("slice");
        return JobFieldRules.ParseSlice(text, out var problem) ?? throw m.Error("slice", problem ?? "must not be empty");
    }

    private static List<ServiceRatePoint> Rate(YamlMap rate, string file)
    {
        var scale = rate.Number("scale", 1, min: 0);
        var shift = (long)rate.Number("shiftSeconds", 0, min: -MaxSeconds, max: MaxSeconds);
        List<ServiceRatePoint> points;
        if (rate.Has("points") == rate.Has("csv")) throw rate.Error("points", "give either points or csv");
        if (rate.Has("points"))
        {
            points = [.. rate.List("points").Select(p =>
            {
                var point = new ServiceRatePoint(p.Seconds("at", min: 0), p.Number("requestsPerSecond", min: 0));
                p.RejectUnknown();
                return point;
            })];
            rate.Allow("format", "windowSeconds", "requestType");
        }
        else
        {
            var csv = rate.Text("csv");
            var path = Path.IsPathRooted(csv) ? csv : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", csv);
            var window = rate.Seconds("windowSeconds", 600, min: 1);
            var requestType = rate.Text("requestType", "Generative Requests");
            points = ReadCsv(path, window, requestType);
        }
        if (rate.Has("repeatEvery"))
        {
            // A day's curve played again every day, for a run longer than the curve: repeatEvery 1d, until 7d.
            var period = rate.Seconds("repeatEvery", min: 1);
            var until = rate.Seconds("until", min: 1);
            points = Repeat(points, period, until);
        }
        rate.RejectUnknown();
        return [.. points.Select(p => new ServiceRatePoint(p.Seconds + shift, p.RequestsPerSecond * scale))];
    }

    /// <summary>
    /// The curve's first <paramref name="period"/> seconds (from its first point) played again every period up to
    /// <paramref name="until"/> seconds after its first point. Example: a 22-hour day with period 1d and until 7d
    /// gives seven copies of the day, each starting 24 h after the one before, its last point holding 2 h.
    /// </summary>
    private static List<ServiceRatePoint> Repeat(List<ServiceRatePoint> points, long period, long until)
    {
        if (points.Count == 0) return points;
        var start = points[0].Seconds;
        var day = points.Where(p => p.Seconds - start < period).ToList();
        var result = new List<ServiceRatePoint>();
        for (long offset = 0; offset < until; offset += period)
            foreach (var p in day)
                if (p.Seconds - start + offset < until) result.Add(p with { Seconds = p.Seconds + offset });
        return result;
    }

    /// <summary>
    /// The built-in rate curve: a day of the Alibaba GenAI trace's generative requests in 10-minute windows, as
    /// <c>traces/rates/alibaba-genai-rate.csv</c> holds it (133 points over 80,313 s; see <c>traces/README.md</c>).
    /// </summary>
    public static IReadOnlyList<ServiceRatePoint> GenAiDay()
    {
        const string name = "GpuFleet.Data.Services.alibaba-genai-rate.csv";
        using var stream = typeof(ServiceFile).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the resource {name} is missing from the build");
        using var text = new StreamReader(stream);
        text.ReadLine();
        return Plain(text, "built-in alibaba-genai-rate.csv");
    }

    /// <summary>
    /// A rate curve from CSV (plain or gzip): <c>seconds,requestsPerSecond</c> as it is, or the GenAI trace's
    /// samples of <paramref name="requestType"/> in windows of <paramref name="window"/> seconds from its first
    /// sample: in each window, the mean of each container's samples, summed over containers (the system's rate),
    /// windows without samples at 0.
    /// </summary>
    public static List<ServiceRatePoint> ReadCsv(string path, long window = 600, string requestType = "Generative Requests")
    {
        try
        {
            using var text = TraceCsv.Open(path);
            var header = text.ReadLine()?.TrimStart('\uFEFF').Trim() ?? "";
            if (header.Replace(" ", "", StringComparison.Ordinal).Equals(RateHeader, StringComparison.OrdinalIgnoreCase)) return Plain(text, path);
            if (header.Equals(GenAiHeader, StringComparison.Ordinal)) return GenAi(text, path, window, requestType);
            throw new DataFileException(path, 1, "header", $"must be '{RateHeader}' or the GenAI trace's '{GenAiHeader}', not '{header}'");
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(path, 0, "file", $"is not a readable gzip file ({e.Message})");
        }
    }

    private static List<ServiceRatePoint> Plain(TextReader text, string path)
    {
        var points = new List<ServiceRatePoint>();
        long line = 1;
        while (text.ReadLine() is { } raw)
        {
            line++;
            var content = raw.Trim();
            if (content.Length == 0 || content.StartsWith('#')) continue;
            if (content.Split(',') is not [var s, var r]) throw new DataFileException(path, line, "row", "must be seconds,requestsPerSecond");
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds != Math.Floor(seconds) || Math.Abs(seconds) > MaxSeconds)
                throw new DataFileException(path, line, "seconds", $"must be a whole number of seconds, not '{s.Trim()}'");
            if (!double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var rps) || !double.IsFinite(rps) || rps < 0)
                throw new DataFileException(path, line, "requestsPerSecond", $"must be a number of 0 or more, not '{r.Trim()}'");
            if (points.Count > 0 && (long)seconds <= points[^1].Seconds)
                throw new DataFileException(path, line, "seconds", $"must rise from row to row ({(long)seconds} after {points[^1].Seconds})");
            points.Add(new ServiceRatePoint((long)seconds, rps));
        }
        return points.Count > 0 ? points : throw new DataFileException(path, 0, "file", "has no rate points");
    }

    private static List<ServiceRatePoint> GenAi(TextReader text, string path, long window, string requestType)
    {
        var samples = new List<(double Time, double Value, string Container)>();
        long line = 1;
        var first = double.PositiveInfinity;
        while (text.ReadLine() is { } raw)
        {
            line++;
            if (raw.Trim().Length == 0) continue;
            if (raw.Split(',') is not [var t, var v, var container, var type]) throw new DataFileException(path, line, "row", $"must have the 4 columns of {GenAiHeader}");
            if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var time) || !double.IsFinite(time))
                throw new DataFileException(path, line, "timestamp_anon", $"must be a number of seconds, not '{t}'");
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
                throw new DataFileException(path, line, "value", $"must be a number of 0 or more, not '{v}'");
            first = Math.Min(first, time);
            if (type.Trim() == requestType) samples.Add((time, value, container.Trim()));
        }
        if (samples.Count == 0) throw new DataFileException(path, 0, "request_type", $"no samples of '{requestType}'");
        var windows = samples.GroupBy(s => (long)Math.Floor((s.Time - first) / window))
            .ToDictionary(g => g.Key, g => g.GroupBy(s => s.Container, StringComparer.Ordinal).Sum(c => c.Average(s => s.Value)));
        var last = windows.Keys.Max();
        var points = new List<ServiceRatePoint>();
        for (var w = 0L; w <= last; w++) points.Add(new ServiceRatePoint(w * window, windows.GetValueOrDefault(w)));
        return points;
    }
}
