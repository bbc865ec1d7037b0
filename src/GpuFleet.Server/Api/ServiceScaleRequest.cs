using System.Text.Json.Serialization;

namespace GpuFleet.Server.Api;

/// <summary>
/// Body of <c>POST /api/v1/services/{name}/scale</c>: <c>{ "replicas": N }</c> pins the replica count (0 up to the
/// service's maximum) until the next load report; <c>{ "replicas": null }</c> clears it. The field is required.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ServiceScaleRequest
{
    private readonly int? _replicas;

    /// <summary>The pinned count, or null to scale by the rate again.</summary>
    public int? Replicas
    {
        get => _replicas;
        init
        {
            _replicas = value;
            Given = true;
        }
    }

    /// <summary>Whether the body had <c>replicas</c> at all (null included): <c>{}</c> is refused, not taken as a clear.</summary>
    [JsonIgnore]
    public bool Given { get; private init; }
}
