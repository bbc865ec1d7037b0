using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Dashboard;

/// <summary>Reads a job's placement text (<c>site/model: nodes host-list</c>, see <see cref="PlacementText"/>) into its parts.</summary>
internal static class JobPlacement
{
    /// <summary>The site and model of a placement; nulls when there is none or it reads otherwise.</summary>
    public static (string? Site, string? Model) SiteAndModel(string? placement)
    {
        if (placement is null) return (null, null);
        var marker = placement.IndexOf(PlacementText.NodesMarker, StringComparison.Ordinal);
        var head = marker < 0 ? placement : placement[..marker];
        var slash = head.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (null, null) : (head[..slash], head[(slash + 1)..]);
    }

    /// <summary>The nodes of a placement in host-list form (<c>n-[0001-0004],n-0012 (GPUs 0-3)</c>), or null.</summary>
    public static string? HostList(string? placement)
    {
        if (placement is null) return null;
        var marker = placement.IndexOf(PlacementText.NodesMarker, StringComparison.Ordinal);
        return marker < 0 ? null : placement[(marker + PlacementText.NodesMarker.Length)..];
    }
}
