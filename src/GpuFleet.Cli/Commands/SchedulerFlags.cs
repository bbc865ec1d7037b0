using System.CommandLine;
using System.Globalization;
using GpuFleet.Core.Scheduling;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// Every setting of the scheduling core as a command-line flag, shared by <c>simulate</c>, <c>serve</c>
/// and <c>demo</c>: the twin and the live service are configured by the same flags, read the same way,
/// so that one cannot quietly decide differently from the other.
/// </summary>
internal sealed class SchedulerFlags
{
    private static readonly SchedulerOptions Defaults = new();

    private readonly Option<int> _window = new("--backfill-window")
    {
        Description = "Placement attempts per cycle after the reservation (Slurm's bf_max_job_test).",
        DefaultValueFactory = _ => Defaults.BackfillWindow,
    };
    private readonly Option<double> _halfLife = new("--half-life-hours")
    {
        Description = "Fair-share half-life of past use, in hours.",
        DefaultValueFactory = _ => Defaults.FairShareHalfLifeSeconds / 3600.0,
    };
    private readonly Option<int> _largeGang = new("--large-gang-gpus")
    {
        Description = "Jobs of at least this many GPUs are large gangs: reserved for once they waited --large-gang-wait, and their worst wait is reported.",
        DefaultValueFactory = _ => Defaults.LargeGangGpus,
    };
    private readonly Option<string> _largeGangWait = new("--large-gang-wait")
    {
        Description = "How long a large gang may wait before it goes first in every cycle (and so holds the reservation): 90, 30m, 1h, 2d.",
        DefaultValueFactory = _ => $"{Defaults.LargeGangReserveAfterSeconds}s",
    };
    private readonly Option<int> _maxEvictions = new("--max-evictions")
    {
        Description = "Most running gangs evicted per cycle (preemption is rate-limited so that jobs do not thrash).",
        DefaultValueFactory = _ => Defaults.MaxEvictionsPerCycle,
    };
    private readonly Option<int> _maxPreemptionAttempts = new("--max-preemption-attempts")
    {
        Description = "Most pending jobs per cycle that may look for victims.",
        DefaultValueFactory = _ => Defaults.MaxPreemptionAttemptsPerCycle,
    };
    private readonly Option<string> _preemptionRetry = new("--preemption-retry")
    {
        Description = "After a search for victims finds none for a kind of job, the next search for that kind waits this long: 30, 1m.",
        DefaultValueFactory = _ => $"{Defaults.PreemptionRetrySeconds}s",
    };
    private readonly Option<string> _slicePacking = new("--slice-packing")
    {
        Description = "How slices of GPUs are packed: fragmentation-aware (default), best-fit or worst-fit.",
        DefaultValueFactory = _ => PackingName(Defaults.SlicePacking),
    };
    private readonly Option<string[]> _shares = new("--tenant-share")
    {
        Description = "TENANT=SHARE: fair-share weight of a tenant that is not in the tenant tree (repeat for several; default 1).",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The flags, to add to a command.</summary>
    public IEnumerable<Option> All => [_window, _halfLife, _largeGang, _largeGangWait, _maxEvictions, _maxPreemptionAttempts, _preemptionRetry, _slicePacking, _shares];

    /// <summary>A packing as the flag spells it.</summary>
    public static string PackingName(SlicePacking packing) => packing switch
    {
        SlicePacking.BestFit => "best-fit",
        SlicePacking.WorstFit => "worst-fit",
        _ => "fragmentation-aware",
    };

    /// <summary>The packing a flag's text names, or null.</summary>
    public static SlicePacking? ParsePacking(string text) => text.Trim().ToLowerInvariant() switch
    {
        "best-fit" or "bestfit" => SlicePacking.BestFit,
        "worst-fit" or "worstfit" => SlicePacking.WorstFit,
        "fragmentation-aware" or "fragmentationaware" or "fgd" => SlicePacking.FragmentationAware,
        _ => null,
    };

    /// <summary>The core's settings from the flags given (policy and tenant tree aside: set them with <c>with</c>); a bad value names its flag.</summary>
    public SchedulerOptions Read(ParseResult r)
    {
        var window = r.GetValue(_window);
        if (window < 1) throw new CliUsageException($"--backfill-window must be at least 1, not {window}");
        var halfLife = r.GetValue(_halfLife);
        if (!(halfLife > 0 && halfLife * 3600 <= long.MaxValue / 2)) throw new CliUsageException($"--half-life-hours must be positive, not {halfLife.ToString(CultureInfo.InvariantCulture)}");
        var largeGang = r.GetValue(_largeGang);
        if (largeGang < 1) throw new CliUsageException($"--large-gang-gpus must be at least 1, not {largeGang}");
        var evictions = r.GetValue(_maxEvictions);
        if (evictions < 0) throw new CliUsageException($"--max-evictions must be at least 0, not {evictions}");
        var attempts = r.GetValue(_maxPreemptionAttempts);
        if (attempts < 0) throw new CliUsageException($"--max-preemption-attempts must be at least 0, not {attempts}");
        var packingText = r.GetValue(_slicePacking)!;
        var packing = ParsePacking(packingText) ?? throw new CliUsageException($"--slice-packing must be fragmentation-aware, best-fit or worst-fit, not '{packingText}'");
        var shares = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var text in r.GetValue(_shares) ?? [])
        {
            var eq = text.IndexOf('=');
            if (eq <= 0 || !double.TryParse(text[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var share) || !(share > 0) || double.IsInfinity(share))
                throw new CliUsageException($"--tenant-share: '{text}' is not TENANT=SHARE with a positive share (e.g. lab-a=2)");
            shares[text[..eq]] = share;
        }
        return new SchedulerOptions
        {
            BackfillWindow = window,
            FairShareHalfLifeSeconds = (long)(halfLife * 3600),
            LargeGangGpus = largeGang,
            LargeGangReserveAfterSeconds = DurationText.Seconds(r.GetValue(_largeGangWait)!, "--large-gang-wait"),
            MaxEvictionsPerCycle = evictions,
            MaxPreemptionAttemptsPerCycle = attempts,
            PreemptionRetrySeconds = DurationText.Seconds(r.GetValue(_preemptionRetry)!, "--preemption-retry"),
            TenantShares = shares,
            SlicePacking = packing,
        };
    }
}
