using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Storage;

/// <summary>A replica of a service as the job table holds it (a job whose <c>service</c> names the service).</summary>
/// <param name="Id">Its job id (2^62 and up).</param>
/// <param name="Service">The service's name.</param>
/// <param name="State">Its job's state.</param>
/// <param name="SubmittedAt">When the leader submitted it.</param>
/// <param name="Placement">Where it runs (the job's placement), when running.</param>
/// <param name="Site">The site it runs at, when running.</param>
public sealed record StoredReplica(long Id, string Service, JobState State, DateTimeOffset SubmittedAt, string? Placement, string? Site);
