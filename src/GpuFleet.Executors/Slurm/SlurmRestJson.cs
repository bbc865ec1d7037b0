using System.Globalization;
using System.Text.Json;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// Reading slurmrestd's JSON the same way in every plugin version: numbers that are plain (v0.0.38) or
/// <c>{"set": true, "infinite": false, "number": 5}</c> (v0.0.39+), states that are a string (v0.0.38,
/// v0.0.39) or a list of flags (v0.0.40+), errors under <c>error_number</c> or <c>error_code</c>.
/// </summary>
internal static class SlurmRestJson
{
    /// <summary>The property <paramref name="name"/> of an object; null when absent, null, or <paramref name="element"/> is no object.</summary>
    public static JsonElement? Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A string property; null when absent.</summary>
    public static string? Text(JsonElement element, string name) => Get(element, name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
        : null;

    /// <summary>
    /// A number: plain, a numeric string, or <c>{set, infinite, number}</c>. Null when absent, not set, or
    /// infinite (Slurm's NO_VAL and INFINITE).
    /// </summary>
    public static long? Number(JsonElement element, string name) => Get(element, name) is { } v ? Number(v) : null;

    /// <inheritdoc cref="Number(JsonElement, string)"/>
    public static long? Number(JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Number:
                return v.TryGetInt64(out var n) ? n : (long)v.GetDouble();
            case JsonValueKind.String:
                return long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) ? s : null;
            case JsonValueKind.Object:
                if (Get(v, "infinite") is { ValueKind: JsonValueKind.True }) return null;
                if (Get(v, "set") is { ValueKind: JsonValueKind.False }) return null;
                return Get(v, "number") is { } number ? Number(number) : null;
            default:
                return null;
        }
    }

    /// <summary>A list of strings, or a single string as a list of one; empty when absent.</summary>
    public static IReadOnlyList<string> Strings(JsonElement element, string name) => Get(element, name) switch
    {
        { ValueKind: JsonValueKind.Array } a => [.. a.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!)],
        { ValueKind: JsonValueKind.String } s when s.GetString() is { Length: > 0 } one => [one],
        _ => [],
    };

    /// <summary>The objects of the list property <paramref name="name"/>.</summary>
    /// <exception cref="FormatException">It is absent or not a list.</exception>
    public static IEnumerable<JsonElement> Items(JsonElement body, string name) => Get(body, name) is { ValueKind: JsonValueKind.Array } list
        ? list.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object)
        : throw new FormatException($"no '{name}' list in the answer");

    /// <summary>A required whole number, e.g. a job id.</summary>
    /// <exception cref="FormatException">It is absent or not a number.</exception>
    public static long Required(JsonElement element, string name) =>
        Number(element, name) ?? throw new FormatException($"'{name}' is missing or not a number in {Excerpt(element)}");

    /// <summary>Unix seconds as a time; null for absent, unset and 0 (as squeue's <c>N/A</c>).</summary>
    public static DateTimeOffset? Time(JsonElement element, string name) =>
        Number(element, name) is { } s && s > 0 ? DateTimeOffset.FromUnixTimeSeconds(s) : null;

    /// <summary>A host list (<c>n[02-03]</c>) expanded; empty for none.</summary>
    public static IReadOnlyList<string> Nodes(string? hostList)
    {
        if (hostList is null or "" or "(null)" or "N/A" or "None assigned") return [];
        try { return HostList.Expand(hostList); }
        catch (FormatException) { return [hostList]; }
    }

    /// <summary>
    /// A job's state as squeue prints it, from v0.0.40's list of flags (<c>["CANCELLED", "COMPLETING"]</c>):
    /// a flag that squeue names first (<c>COMPLETING</c>, <c>CONFIGURING</c>...), else the base state.
    /// </summary>
    public static string JobState(IReadOnlyList<string> flags)
    {
        if (flags.Count == 1) return flags[0].ToUpperInvariant();
        var upper = flags.Select(f => f.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
        foreach (var shown in ShownFirst)
            if (upper.Contains(shown)) return shown;
        return flags.Select(f => f.ToUpperInvariant()).FirstOrDefault(BaseJobStates.Contains) ?? (flags.Count > 0 ? flags[0].ToUpperInvariant() : "UNKNOWN");
    }

    // The order of Slurm's job_state_string(): flags it shows instead of the base state.
    private static readonly string[] ShownFirst =
    [
        "COMPLETING", "STAGE_OUT", "CONFIGURING", "EXPEDITING", "RESIZING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
        "SPECIAL_EXIT", "STOPPED", "REVOKED", "RESV_DEL_HOLD", "SIGNALING",
    ];

    private static readonly HashSet<string> BaseJobStates = new(StringComparer.Ordinal)
    {
        "PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
        "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY",
    };

    /// <summary>
    /// A node's state as sinfo's <c>StateComplete</c> prints it (<c>idle+drain</c>): the base state, then each
    /// flag, lower case. v0.0.38 gives the base and the flags apart; v0.0.39+ one list.
    /// </summary>
    public static string NodeState(IEnumerable<string> states)
    {
        var all = states.Select(s => s.ToLowerInvariant()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var first = all.FindIndex(BaseNodeStates.Contains);
        if (first > 0) (all[0], all[first]) = (all[first], all[0]);
        return all.Count == 0 ? "unknown" : string.Join('+', all);
    }

    private static readonly HashSet<string> BaseNodeStates = new(StringComparer.Ordinal)
    {
        "unknown", "down", "idle", "allocated", "error", "mixed", "future", "external", "invalid",
    };

    /// <summary>The <c>errors</c> an answer reports; empty when none (or the body is not JSON).</summary>
    public static IReadOnlyList<SlurmRestError> Errors(JsonElement? body)
    {
        if (body is not { } b || Get(b, "errors") is not { ValueKind: JsonValueKind.Array } list) return [];
        return [.. list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(Error)];
    }

    /// <summary>One error object: <c>{error, error_number | error_code, description, source}</c> (22.05's submission errors say <c>error_code</c>).</summary>
    public static SlurmRestError Error(JsonElement e)
    {
        var number = Number(e, "error_number") ?? Number(e, "error_code") ?? Number(e, "code");
        var error = Text(e, "error") ?? Text(e, "string");
        var description = Text(e, "description") ?? Text(e, "message");
        var message = (error, description) switch
        {
            ({ Length: > 0 } a, { Length: > 0 } d) when d.Contains(a, StringComparison.OrdinalIgnoreCase) => d,
            ({ Length: > 0 } a, { Length: > 0 } d) => $"{a}: {d}",
            ({ Length: > 0 } a, _) => a,
            (_, { Length: > 0 } d) => d,
            _ => Text(e, "source") ?? "unspecified error",
        };
        return new SlurmRestError(number is { } n ? (int)n : null, message);
    }

    /// <summary>A short excerpt of <paramref name="element"/> for error messages.</summary>
    public static string Excerpt(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= 200 ? text : text[..200] + "...";
    }
}
