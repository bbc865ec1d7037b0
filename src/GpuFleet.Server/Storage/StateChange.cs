using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Storage;

/// <summary>
/// A checked state change: job <see cref="Id"/> from <see cref="From"/> to <see cref="To"/>, with where it
/// runs when it starts, and <see cref="At"/>, when it happened if not when it is written (a run's end as
/// its cluster reports it). <see cref="Slices"/> is a slice job's placement on GPU slices, as the <c>slices</c> column holds it (<see cref="PlacedSlice.Column"/>).
/// </summary>
public sealed record StateChange(long Id, JobState From, JobState To, string? Detail, string? Placement = null, string? Site = null, string? Model = null,
    DateTimeOffset? At = null, string? Slices = null);
