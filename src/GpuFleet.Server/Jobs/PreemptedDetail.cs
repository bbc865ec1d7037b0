using System.Globalization;
using System.Text.RegularExpressions;

namespace GpuFleet.Server.Jobs;

/// <summary>
/// The detail of the event that records an eviction, written by the scheduling loop and read back by
/// the job page: <c>preempted (reclaim) for job 42 of startups</c> — the kind, and the job and tenant
/// that gained the GPUs.
/// </summary>
public static partial class PreemptedDetail
{
    /// <summary>The detail for a job evicted by <paramref name="kind"/> (<c>reclaim</c>, <c>priority</c>) for job <paramref name="gainer"/> of <paramref name="tenant"/>.</summary>
    public static string Of(string kind, long gainer, string tenant) =>
        string.Create(CultureInfo.InvariantCulture, $"preempted ({kind}) for job {gainer} of {tenant}");

    /// <summary>The kind and the gaining job and tenant of an eviction's detail; null for any other detail.</summary>
    public static (string Kind, long Gainer, string Tenant)? Read(string? detail) =>
        detail is not null && Pattern().Match(detail) is { Success: true } m
            ? (m.Groups[1].Value, long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value)
            : null;

    [GeneratedRegex(@"^preempted \((\w+)\) for job (\d+) of (\S+)$")]
    private static partial Regex Pattern();
}
