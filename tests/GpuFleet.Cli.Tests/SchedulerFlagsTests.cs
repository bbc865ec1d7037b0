using System.CommandLine;
using GpuFleet.Cli.Commands;
using GpuFleet.Core.Scheduling;

namespace GpuFleet.Cli.Tests;

/// <summary>The flags that configure the scheduling core alike in simulate, serve and demo.</summary>
[Trait("Category", "Cli")]
public sealed class SchedulerFlagsTests
{
    private static readonly string[] AllSet =
    [
        "--backfill-window", "7", "--half-life-hours", "5", "--large-gang-gpus", "32", "--large-gang-wait", "20m",
        "--max-evictions", "3", "--max-preemption-attempts", "2", "--preemption-retry", "2m", "--tenant-share", "lab=2.5",
        "--slice-packing", "worst-fit",
    ];

    [Fact]
    public void Every_setting_of_the_core_has_a_flag_and_reaches_the_options()
    {
        var flags = new SchedulerFlags();
        var command = new RootCommand();
        foreach (var f in flags.All) command.Options.Add(f);
        var options = flags.Read(command.Parse(AllSet));
        var defaults = new SchedulerOptions();
        // A setting added to SchedulerOptions without a flag keeps its default here and fails this test;
        // policy and tenants come from --policy and --tenants.
        foreach (var p in typeof(SchedulerOptions).GetProperties())
        {
            if (p.Name is nameof(SchedulerOptions.Policy) or nameof(SchedulerOptions.Tenants) || p.Name == "EqualityContract") continue;
            Assert.False(Equals(p.GetValue(defaults), p.GetValue(options)) || p.Name == nameof(SchedulerOptions.TenantShares) && options.TenantShares.Count == 0,
                $"{p.Name} is not set by any flag");
        }
        Assert.Equal(new SchedulerOptions
        {
            BackfillWindow = 7, FairShareHalfLifeSeconds = 18_000, LargeGangGpus = 32, LargeGangReserveAfterSeconds = 1_200, MaxEvictionsPerCycle = 3,
            MaxPreemptionAttemptsPerCycle = 2, PreemptionRetrySeconds = 120, TenantShares = options.TenantShares, SlicePacking = SlicePacking.WorstFit,
        }, options);
        Assert.Equal(2.5, options.TenantShares["lab"]);
    }

    [Theory]
    [InlineData("--backfill-window", "0")]
    [InlineData("--half-life-hours", "-1")]
    [InlineData("--large-gang-gpus", "0")]
    [InlineData("--large-gang-wait", "soon")]
    [InlineData("--max-evictions", "-1")]
    [InlineData("--max-preemption-attempts", "-2")]
    [InlineData("--preemption-retry", "0")]
    [InlineData("--tenant-share", "lab")]
    [InlineData("--slice-packing", "tightest")]
    public void A_bad_value_is_refused_naming_its_flag(string flag, string value)
    {
        var flags = new SchedulerFlags();
        var command = new RootCommand();
        foreach (var f in flags.All) command.Options.Add(f);
        var e = Assert.Throws<CliUsageException>(() => flags.Read(command.Parse([flag, value])));
        Assert.StartsWith(flag, e.Message);
    }
}
