namespace GpuFleet.Server.Api;

/// <summary>
/// Checks free text from a request: its length first, so that nothing longer is ever looked at, then
/// that it holds no control characters. PostgreSQL refuses a NUL in text, and escape sequences or
/// carriage returns would rewrite the terminal of whoever lists the jobs; no name needs them.
/// </summary>
public static class RequestText
{
    /// <summary>Longest name, tenant, priority class, GPU model name or <c>Idempotency-Key</c> accepted.</summary>
    public const int MaxLength = 200;

    /// <summary>
    /// Null when <paramref name="value"/> is acceptable, else what is wrong with it. Tabs and newlines
    /// pass only where <paramref name="tabsAndNewlines"/> (a command may be a short script).
    /// </summary>
    public static string? Problem(string value, int maxLength = MaxLength, bool tabsAndNewlines = false)
    {
        if (value.Length > maxLength) return $"must be at most {maxLength} characters";
        foreach (var ch in value)
        {
            if (char.IsControl(ch) && !(tabsAndNewlines && (ch == '\t' || ch == '\n')))
                return $"must not contain control characters (found U+{(int)ch:X4}){(tabsAndNewlines ? "; tabs and newlines are allowed" : "")}";
        }
        return null;
    }
}
