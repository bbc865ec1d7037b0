using System.Text.Json.Serialization;

namespace GpuFleet.Server.Api;

/// <summary>Body of <c>POST /api/v1/services/{name}/load</c>: the service's request rate now.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ServiceLoadRequest
{
    /// <summary>Requests per second, finite, 0 or more (required).</summary>
    public double? RequestsPerSecond { get; init; }
}
