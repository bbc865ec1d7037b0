using System.Globalization;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Workloads;

/// <summary>
/// The rules of a job's placement and data fields, in one place for every way a job comes in — the
/// native trace, the API (single and batch), the CLI's job file — so that a value is accepted or
/// refused the same way, in the same words, whichever way it came. A problem is the text after the
/// field's name (<c>"must be at least 0, not -1"</c>); each caller names the field its own way
/// (file, line and column; a JSON field).
/// </summary>
public static class JobFieldRules
{
    /// <summary>A topology need as traces and the API spell it: <c>site</c>, <c>node</c>, <c>domain</c>, <c>anywhere</c>.</summary>
    public static string TopologyName(TopologyNeed need) => need.ToString().ToLowerInvariant();

    /// <summary>
    /// Reads a topology need in any case, spaces around it ignored; empty (an empty CSV cell) or null (an
    /// absent field) is the default, <see cref="TopologyNeed.Site"/>. Null when the text names none;
    /// <see cref="TopologyProblem"/> then says so.
    /// </summary>
    public static TopologyNeed? ParseTopology(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "site" => TopologyNeed.Site,
        "node" => TopologyNeed.Node,
        "domain" => TopologyNeed.Domain,
        "anywhere" => TopologyNeed.Anywhere,
        _ => null,
    };

    /// <summary>What is wrong with a topology <see cref="ParseTopology"/> did not recognise.</summary>
    public static string TopologyProblem(string text) => $"must be site, node, domain or anywhere, not '{text.Trim().ToLowerInvariant()}'";

    /// <summary>Null when <paramref name="site"/> (a <c>site</c> or <c>dataSite</c>) is a site of <paramref name="fleet"/>, else what is wrong.</summary>
    public static string? SiteProblem(Fleet fleet, string site) =>
        fleet.SiteIndex(site) >= 0 ? null : $"unknown site '{site}' (the fleet has {string.Join(", ", fleet.Sites.Select(s => s.Name))})";

    /// <summary>Null when <paramref name="gigabytes"/> is a size of input data (finite, 0 or more), else what is wrong.</summary>
    public static string? DataGbProblem(double gigabytes) =>
        !double.IsFinite(gigabytes) ? "must be a finite number"
        : gigabytes < 0 ? $"must be at least 0, not {gigabytes.ToString(CultureInfo.InvariantCulture)}"
        : gigabytes > MaxDataGb ? $"must be at most {MaxDataGb.ToString("N0", CultureInfo.InvariantCulture)} (an exabyte), not {gigabytes.ToString(CultureInfo.InvariantCulture)}"
        : null;

    // An exabyte: far beyond any job's input, and far from where transfer times stop being whole seconds.
    private const double MaxDataGb = 1e9;

    /// <summary>
    /// Null when <paramref name="seconds"/> is a checkpoint interval — a whole number of seconds, 0 (does
    /// not checkpoint) or more — else what is wrong. A fraction is refused rather than cut: 0.5 would
    /// silently become "never checkpoints".
    /// </summary>
    public static string? CheckpointSecondsProblem(double seconds) =>
        !double.IsFinite(seconds) || seconds != Math.Floor(seconds) ? $"must be a whole number of seconds, not {seconds.ToString(CultureInfo.InvariantCulture)}"
        : seconds < 0 ? $"must be at least 0, not {seconds.ToString(CultureInfo.InvariantCulture)}"
        : seconds >= MaxCheckpointSeconds ? $"must be less than {MaxCheckpointSeconds.ToString(CultureInfo.InvariantCulture)}"
        : null;

    // Beyond this a double no longer converts to a long exactly; no checkpoint interval is anywhere near it.
    private const double MaxCheckpointSeconds = 9e18;

    /// <summary>
    /// Null when <paramref name="amount"/> is a CPU or memory request per GPU (<c>cpusPerGpu</c>,
    /// <c>memoryGbPerGpu</c>, or a per-job <c>cpus</c>/<c>memoryGb</c>): finite, 0 (not asked) or more; else what is wrong.
    /// </summary>
    public static string? PerGpuAmountProblem(double amount) =>
        !double.IsFinite(amount) ? "must be a finite number"
        : amount < 0 ? $"must be at least 0, not {amount.ToString(CultureInfo.InvariantCulture)}"
        : amount > MaxPerGpuAmount ? $"must be at most {MaxPerGpuAmount.ToString("N0", CultureInfo.InvariantCulture)}, not {amount.ToString(CultureInfo.InvariantCulture)}"
        : null;

    // Far beyond any node's cores or memory in GB; keeps sums over a node's jobs far from overflow and rounding.
    private const double MaxPerGpuAmount = 1e6;

    /// <summary>
    /// Null when <paramref name="slice"/> is a well-formed slice request, else what is wrong: a MIG profile
    /// must be a name (<c>1g.23gb</c>: letters, digits, <c>.</c>, <c>+</c>, <c>-</c>, <c>_</c>), a fraction
    /// above 0 and below 1, a memory size above 0 and finite. Whether the fleet has such a slice is
    /// <see cref="SliceFleetProblem"/>'s question.
    /// </summary>
    public static string? SliceProblem(SliceRequest slice)
    {
        if (slice.MigProfile is { } profile)
            return ProfileNameProblem(profile) is { } bad ? $"MIG profile {bad}" : null;
        if (!double.IsFinite(slice.GpuFraction) || slice.GpuFraction <= 0 || slice.GpuFraction >= 1)
            return $"GPU fraction must be above 0 and below 1, not {slice.GpuFraction.ToString(CultureInfo.InvariantCulture)}";
        if (!double.IsFinite(slice.GpuMemoryGb) || slice.GpuMemoryGb <= 0)
            return $"GPU memory must be a finite number of GB above 0, not {slice.GpuMemoryGb.ToString(CultureInfo.InvariantCulture)}";
        return null;
    }

    // Longer than any MIG profile's name (7g.180gb+me.all); the name goes into tables and placements.
    private const int MaxProfileName = 40;

    private static string? ProfileNameProblem(string name)
    {
        if (name.Length == 0) return "must not be empty";
        if (name.Length > MaxProfileName) return $"must be at most {MaxProfileName} characters";
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-' or '_'))
                return $"must hold only letters, digits, '.', '+', '-' and '_', not '{name}'";
        return null;
    }

    /// <summary>
    /// A slice as a trace cell spells it: empty or null is whole GPUs (null, no problem); <c>mig:1g.23gb</c>
    /// a MIG profile; <c>0.25:20</c> a fraction of the GPU with 20 GB of its memory. Null with
    /// <paramref name="problem"/> set when the text is not one of these or breaks <see cref="SliceProblem"/>.
    /// </summary>
    public static SliceRequest? ParseSlice(string? text, out string? problem)
    {
        problem = null;
        var t = text?.Trim();
        if (string.IsNullOrEmpty(t)) return null;
        SliceRequest slice;
        if (t.StartsWith("mig:", StringComparison.OrdinalIgnoreCase))
            slice = new SliceRequest(t[4..].Trim(), 0, 0);
        else if (t.Split(':') is [var fraction, var memory]
                 && double.TryParse(fraction, NumberStyles.Float, CultureInfo.InvariantCulture, out var f)
                 && double.TryParse(memory, NumberStyles.Float, CultureInfo.InvariantCulture, out var gb))
            slice = new SliceRequest(null, f, gb);
        else
        {
            problem = $"must be empty (whole GPUs), mig:<profile> (mig:1g.23gb) or <fraction>:<memory GB> (0.25:20), not '{t}'";
            return null;
        }
        problem = SliceProblem(slice);
        return problem is null ? slice : null;
    }

    /// <summary>A slice as a trace cell spells it (<see cref="ParseSlice"/> reads it back); empty for whole GPUs.</summary>
    public static string SliceCell(SliceRequest? slice) => slice?.ToString() ?? "";

    /// <summary>A slice in words for people: <c>mig:1g.23gb</c>, or <c>0.25 GPU, 20 GB</c>.</summary>
    public static string SliceText(SliceRequest slice) => slice.MigProfile is not null
        ? slice.ToString()
        : FormattableString.Invariant($"{slice.GpuFraction} GPU, {slice.GpuMemoryGb} GB");

    /// <summary>
    /// Null when some GPU model of <paramref name="fleet"/> can give the slice, else what is wrong: a MIG profile
    /// must be one of a model's profiles, a fraction needs a model that may be shared (time-sharing or MIG) and
    /// has that much memory. Which model and node it gets is the scheduler's question.
    /// </summary>
    public static string? SliceFleetProblem(Fleet fleet, SliceRequest slice)
    {
        var shared = fleet.Models.Where(m => m.Sharing is not null).ToList();
        if (shared.Count == 0) return "the fleet has no GPU model that may be shared (no model has sharing: in the fleet file)";
        if (slice.MigProfile is { } name)
        {
            if (shared.Any(m => m.Sharing!.Profile(name) is not null)) return null;
            var known = shared.SelectMany(m => m.Sharing!.MigProfiles.Select(p => $"{p.Name} ({m.Name})")).ToList();
            return known.Count == 0
                ? $"unknown MIG profile '{name}' (no model of the fleet has MIG profiles)"
                : $"unknown MIG profile '{name}' (the fleet has {string.Join(", ", known)})";
        }
        var most = shared.Max(m => m.MemoryGb);
        return slice.GpuMemoryGb > most
            ? $"GPU memory of {slice.GpuMemoryGb.ToString(CultureInfo.InvariantCulture)} GB is more than any shared model has (at most {most.ToString(CultureInfo.InvariantCulture)} GB)"
            : null;
    }
}
