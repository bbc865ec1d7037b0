namespace GpuFleet.Core.Execution;

/// <summary>How a simulated run unfolds, fixed when it is launched.</summary>
/// <param name="Placed">When the placement was decided: its GPUs are held from here.</param>
/// <param name="WorkStart">When work begins: after the evicted jobs' grace and the transfer of its data.</param>
/// <param name="End">When it ends: its work done, or its time limit reached.</param>
/// <param name="TimesOut">Whether it ends by reaching its limit: the work left is longer, or the transfer of its data took the difference.</param>
public sealed record RunPlan(long Placed, long WorkStart, long End, bool TimesOut);
