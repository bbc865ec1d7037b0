namespace GpuFleet.Executors.Slurm;

/// <summary>One answer of slurmrestd.</summary>
/// <param name="Status">The HTTP status (200, 304, 401, 500...).</param>
/// <param name="Body">The body when it is JSON; null otherwise (a 401's text, a 304's nothing).</param>
/// <param name="Text">The body as text, for messages.</param>
internal sealed record SlurmRestAnswer(int Status, System.Text.Json.JsonElement? Body, string Text)
{
    /// <summary>Whether the status is 2xx.</summary>
    public bool Succeeded => Status is >= 200 and < 300;

    /// <summary>The errors the body lists.</summary>
    public IReadOnlyList<SlurmRestError> Errors => SlurmRestJson.Errors(Body);

    /// <summary>What went wrong, in slurmrestd's words: its errors, else the body's text, else the status.</summary>
    public string Describe()
    {
        var errors = Errors;
        if (errors.Count > 0) return string.Join("; ", errors.Select(e => e.Message).Distinct(StringComparer.Ordinal));
        var text = Text.Trim();
        return text.Length > 0 && Body is null ? $"HTTP {Status}: {(text.Length > 200 ? text[..200] + "..." : text)}" : $"HTTP {Status}";
    }
}
