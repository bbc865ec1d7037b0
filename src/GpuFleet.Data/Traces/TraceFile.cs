using GpuFleet.Core.Workloads;

namespace GpuFleet.Data.Traces;

/// <summary>Reads a trace in any supported format, recognised by its header line.</summary>
public static class TraceFile
{
    /// <summary>Reads Philly, Kalos (converted) or native traces, plain or gzip.</summary>
    public static IReadOnlyList<TraceJob> Load(string path)
    {
        try
        {
            return LoadByHeader(path);
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(path, 0, "file", $"is not a readable gzip file ({e.Message})");
        }
    }

    private static IReadOnlyList<TraceJob> LoadByHeader(string path)
    {
        string header;
        using (var text = TraceCsv.Open(path)) header = (text.ReadLine() ?? "").Trim().TrimStart('\uFEFF');
        if (header.Length == 0) throw new DataFileException(path, 1, "header", "the file is empty");
        if (header.StartsWith(PhillyTraceReader.Header, StringComparison.Ordinal)) return PhillyTraceReader.Read(path);
        if (header.StartsWith(KalosTraceReader.HeaderStart, StringComparison.Ordinal)) return KalosTraceReader.Read(path);
        if (header.StartsWith("id,", StringComparison.Ordinal)) return NativeTrace.Read(path);
        throw new DataFileException(path, 1, "header",
            $"unknown trace format; expected a Philly ('{PhillyTraceReader.Header}'), Kalos ('{KalosTraceReader.HeaderStart},...') or native ('{NativeTrace.Header}') header");
    }
}
