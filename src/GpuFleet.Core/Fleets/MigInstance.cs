namespace GpuFleet.Core.Fleets;

/// <summary>One GPU instance of a MIG layout: a profile starting at a memory slice.</summary>
public readonly record struct MigInstance(string Profile, int Start);
