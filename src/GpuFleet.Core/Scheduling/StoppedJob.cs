using GpuFleet.Core.Decisions;

namespace GpuFleet.Core.Scheduling;

/// <summary>What a running job had before a tentative stop, so that <see cref="RunningJobs.Resume"/> can put it back exactly.</summary>
/// <param name="Gpus">Its GPUs.</param>
/// <param name="BestEffort">Whether it ran at best-effort.</param>
/// <param name="BilledRate">Its tenant's billed rate before the stop (a sum of doubles: adding back need not give the same bits).</param>
internal readonly record struct StoppedJob(GpuAllocation[] Gpus, bool BestEffort, double BilledRate);
