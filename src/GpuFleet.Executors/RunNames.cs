using System.Globalization;

namespace GpuFleet.Executors;

/// <summary>
/// How the runs of one GpuFleet installation are named on a cluster, and how they are told from the runs of
/// another installation and from the cluster's other work. An executor finds, adopts and cancels only the
/// runs whose names (and, on Kubernetes, labels) are its installation's.
/// </summary>
/// <remarks>
/// Example: installation <c>prod</c> names job 42's run <c>gpufleet-prod-42</c>; it reads <c>gpufleet-prod-7</c> as its
/// job 7 and <c>gpufleet-7</c> (the unnamed installation's) or <c>gpufleet-staging-7</c> as none of its own. The unnamed
/// installation (<see cref="Default"/>) names runs <c>gpufleet-42</c>, as every installation did before they had names, so
/// that a deployment upgraded without naming itself adopts the runs it started before; it reads
/// <c>gpufleet-prod-7</c> as none of its own, since an installation name starts with a letter.
/// </remarks>
/// <param name="Installation">The installation's name (checked by <see cref="Core.Fleets.InstallationName"/>); null for the unnamed one.</param>
public sealed record RunNames(string? Installation)
{
    /// <summary>The unnamed installation's: <c>gpufleet-&lt;id&gt;</c>.</summary>
    public static RunNames Default { get; } = new((string?)null);

    /// <summary>What every run name of this installation starts with.</summary>
    public string Prefix => Installation is null ? "gpufleet-" : $"gpufleet-{Installation}-";

    /// <summary>The name the run of GpuFleet job <paramref name="jobId"/> carries on a cluster, and by which it is found again.</summary>
    public string Of(long jobId) => Prefix + jobId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The GpuFleet job id in a run's name; null when the run is not this installation's.</summary>
    public long? JobIdOf(string runName) =>
        runName.StartsWith(Prefix, StringComparison.Ordinal) && long.TryParse(runName.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id : null;
}
