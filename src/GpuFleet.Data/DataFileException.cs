namespace GpuFleet.Data;

/// <summary>A fleet, trace or workload file that cannot be used, with the place and field at fault.</summary>
public sealed class DataFileException(string file, long line, string field, string problem)
    : Exception(line > 0 ? $"{file}:{line}: {field}: {problem}" : $"{file}: {field}: {problem}")
{
    /// <summary>The file.</summary>
    public string File { get; } = file;
    /// <summary>1-based line, or 0 when the problem is not on one line.</summary>
    public long Line { get; } = line;
    /// <summary>The field at fault.</summary>
    public string Field { get; } = field;
    /// <summary>What is wrong.</summary>
    public string Problem { get; } = problem;
}
