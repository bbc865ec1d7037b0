using System.Text.Json.Serialization;

namespace GpuFleet.Server.Twin;

/// <summary>
/// What a user asks of a twin run, as sent: the JSON body of <c>POST /api/v1/twin/runs</c>, or the fields of
/// the Twin page's form (and of a <c>multipart/form-data</c> post to the API, which may carry a file).
/// A field not listed here is refused by name.
/// <para>Example: <c>{"fleet": "philly-contended", "tenants": "philly-vcs", "policies": ["backfill", "shared"],
/// "source": "sample", "trace": "philly-2017-10"}</c>; or <c>"source": "generate", "days": 7, "load": 0.9, "seed": 1</c>.</para>
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TwinRunRequest
{
    /// <summary>A fleet of <c>GET /api/v1/twin/inputs</c> (a file of <c>fleets/</c>, without <c>.yaml</c>).</summary>
    public string? Fleet { get; init; }
    /// <summary>A tenant tree (a file of <c>tenants/</c>), or absent/empty: none (then <c>static</c> and <c>shared</c> cannot be chosen).</summary>
    public string? Tenants { get; init; }
    /// <summary>One or more of fifo, backfill, fairshare, static, shared (each may be a comma list), compared in this order.</summary>
    public IReadOnlyList<string>? Policies { get; init; }
    /// <summary><c>sample</c> (default), <c>upload</c> (a file in the form's <c>traceFile</c>) or <c>generate</c>.</summary>
    public string? Source { get; init; }
    /// <summary>With <c>sample</c>: a sample trace (a file of <c>traces/</c>, without <c>.csv</c>/<c>.csv.gz</c>).</summary>
    public string? Trace { get; init; }
    /// <summary>With <c>generate</c>: length of the workload in days.</summary>
    public double? Days { get; init; }
    /// <summary>With <c>generate</c>: offered GPU-time over the fleet's capacity, e.g. 0.9.</summary>
    public double? Load { get; init; }
    /// <summary>With <c>generate</c>: the random seed (default 1): the same seed gives the same workload.</summary>
    public int? Seed { get; init; }
}
