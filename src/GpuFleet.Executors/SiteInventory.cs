namespace GpuFleet.Executors;

/// <summary>A site's nodes as its cluster manager reports them.</summary>
public sealed record SiteInventory(IReadOnlyList<InventoryNode> Nodes);
