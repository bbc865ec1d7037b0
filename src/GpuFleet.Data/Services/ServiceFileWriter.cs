using System.Globalization;
using System.Text.Json;
using GpuFleet.Core.Services;
using GpuFleet.Data.Workloads;

namespace GpuFleet.Data.Services;

/// <summary>
/// Writes services in the format <see cref="ServiceFile"/> reads, each playing one shared rate curve (a CSV next to
/// the file) with its own scale and shift. Texts are written double-quoted with JSON's escapes, which YAML reads
/// alike, so that no tenant or model name can break the file.
/// </summary>
public static class ServiceFileWriter
{
    /// <summary>Seconds in a day: the period of a day's curve played again.</summary>
    public const long Day = 86_400;

    /// <summary>
    /// Writes <paramref name="services"/> under <paramref name="name"/>, after <paramref name="comments"/> (one per line).
    /// Each plays the curve at <paramref name="csv"/> (relative to the written file), played again every day when
    /// <paramref name="repeatDaily"/>, up to <paramref name="untilSeconds"/> after its first point.
    /// </summary>
    public static void Write(TextWriter writer, string name, IReadOnlyList<GeneratedService> services, string csv, bool repeatDaily, long untilSeconds,
        IEnumerable<string> comments)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(services);
        foreach (var line in comments) writer.WriteLine($"# {line}");
        writer.WriteLine($"name: {Text(name)}");
        writer.WriteLine("services:");
        foreach (var g in services)
        {
            var s = g.Spec;
            writer.WriteLine($"  - name: {Text(s.Name)}");
            writer.WriteLine($"    tenant: {Text(s.Tenant)}");
            writer.WriteLine($"    gpusPerReplica: {s.GpusPerReplica}");
            if (s.Models.Count > 0) writer.WriteLine($"    models: [{string.Join(", ", s.Models.Select(Text))}]");
            if (s.Slice is { } slice) writer.WriteLine($"    slice: {Text(slice.ToString())}");
            if (s.CpusPerGpu > 0) writer.WriteLine($"    cpusPerGpu: {Number(s.CpusPerGpu)}");
            if (s.MemoryGbPerGpu > 0) writer.WriteLine($"    memoryGbPerGpu: {Number(s.MemoryGbPerGpu)}");
            writer.WriteLine($"    minReplicas: {s.MinReplicas}");
            writer.WriteLine($"    maxReplicas: {s.MaxReplicas}");
            writer.WriteLine($"    requestsPerSecondPerReplica: {Number(s.RequestsPerSecondPerReplica)}");
            writer.WriteLine($"    targetUtilization: {Number(s.TargetUtilization)}");
            if (s.PriorityClass is { } priorityClass) writer.WriteLine($"    priorityClass: {Text(priorityClass)}");
            if (s.StandbyReplicas > 0) writer.WriteLine($"    standbyReplicas: {s.StandbyReplicas}");
            var repeat = repeatDaily ? FormattableString.Invariant($", repeatEvery: {Day}, until: {untilSeconds}") : "";
            writer.WriteLine(FormattableString.Invariant($"    rate: {{ csv: {Text(csv)}, scale: {Number(g.Scale)}, shiftSeconds: {g.ShiftSeconds}{repeat} }}"));
        }
    }

    /// <summary>Writes a curve as <c>seconds,requestsPerSecond</c>, after <paramref name="comments"/> (as <c>#</c> lines).</summary>
    public static void WriteCurve(TextWriter writer, IReadOnlyList<ServiceRatePoint> curve, IEnumerable<string> comments)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(curve);
        writer.WriteLine(ServiceFile.RateHeader);
        foreach (var line in comments) writer.WriteLine($"# {line}");
        foreach (var p in curve) writer.WriteLine($"{p.Seconds},{Number(p.RequestsPerSecond)}");
    }

    private static string Text(string text) => JsonSerializer.Serialize(text);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
