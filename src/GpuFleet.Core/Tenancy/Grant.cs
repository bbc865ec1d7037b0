namespace GpuFleet.Core.Tenancy;

/// <summary>
/// A project's allocation of GPU-hours for a period, as national allocation programmes award them
/// (small exploratory grants up to large reviewed ones: the tiers are data, not code).
/// </summary>
/// <param name="Name">Grant name or number.</param>
/// <param name="GpuHours">GPU-hours awarded, in the tree's billing currency (GPU-hours × the model's billing weight).</param>
/// <param name="StartTime">First second the grant may be charged, on the scheduler's clock.</param>
/// <param name="EndTime">The grant lapses at this second.</param>
/// <param name="WhenExhausted">What happens to new work once no grant of the project has hours left.</param>
public sealed record Grant(string Name, double GpuHours, long StartTime, long EndTime, GrantExhaustion WhenExhausted = GrantExhaustion.Hold);
