namespace GpuFleet.Executors;

/// <summary>A node's state as the cluster reports it.</summary>
public enum InventoryNodeState
{
    /// <summary>It takes work.</summary>
    Up,
    /// <summary>It finishes what runs there but takes nothing new.</summary>
    Drained,
    /// <summary>It is down: what ran there is lost.</summary>
    Down,
}
