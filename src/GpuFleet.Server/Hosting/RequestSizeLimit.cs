using Microsoft.AspNetCore.Http.Metadata;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// An endpoint's own body limit, above the server's (<see cref="ServerSettings.MaxRequestBodyBytes"/>): a
/// twin run's form carries a trace file. <see cref="RequestBodyLimit"/> applies it.
/// </summary>
public sealed class RequestSizeLimit(long bytes) : IRequestSizeLimitMetadata
{
    /// <inheritdoc />
    public long? MaxRequestBodySize { get; } = bytes;
}
