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

    /// <summary>Null when <paramref name="amount"/> is a CPU or memory amount per GPU (finite, 0 or more), else what is wrong.</summary>
    public static string? PerGpuProblem(double amount) =>
        !double.IsFinite(amount) ? "must be a finite number"
        : amount < 0 ? $"must be at least 0, not {amount.ToString(CultureInfo.InvariantCulture)}"
        : amount > MaxPerGpu ? $"must be at most {MaxPerGpu.ToString(CultureInfo.InvariantCulture)}, not {amount.ToString(CultureInfo.InvariantCulture)}"
        : null;

    // Far beyond any node (a few hundred cores, a few TB per GPU), and far from where rounding to milli-units overflows.
    private const double MaxPerGpu = 1e6;

    /// <summary>Null when a slice request is well formed (a MIG profile name, or a fraction in (0, 1) with memory above 0), else what is wrong.</summary>
    public static string? SliceProblem(SliceRequest slice) =>
        slice.MigProfile is { } profile
            ? string.IsNullOrWhiteSpace(profile) ? "the MIG profile must not be empty" : null
            : !double.IsFinite(slice.GpuFraction) || slice.GpuFraction <= 0 || slice.GpuFraction >= 1
                ? $"gpuFraction must be above 0 and below 1, not {slice.GpuFraction.ToString(CultureInfo.InvariantCulture)}"
            : !double.IsFinite(slice.GpuMemoryGb) || slice.GpuMemoryGb <= 0 || slice.GpuMemoryGb > MaxPerGpu
                ? $"gpuMemoryGb must be above 0 (and at most {MaxPerGpu.ToString(CultureInfo.InvariantCulture)}), not {slice.GpuMemoryGb.ToString(CultureInfo.InvariantCulture)}"
            : null;
}
