namespace GpuFleet.Dashboard.Tests;

/// <summary>
/// Test classes that run after the others, one at a time, with the machine to themselves: the national fleet's
/// 100,000 jobs keep both cores busy for a minute or more, and a standby's 2-s wait for its leader must not be
/// spent waiting for a core. Run beside the other browser tests, they made those miss their timeouts on a
/// loaded 2-core machine (a sign-in that took over 30 s).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "runs alone";
}
