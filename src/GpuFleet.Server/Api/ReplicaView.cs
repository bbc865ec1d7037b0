namespace GpuFleet.Server.Api;

/// <summary>A replica of a service in its view: its job id and, when placed, where it runs.</summary>
/// <param name="Id">Its job id (a job of the service's tenant in job listings).</param>
/// <param name="SubmittedAt">When the leader submitted it.</param>
/// <param name="Site">The site it runs at; null while it waits.</param>
/// <param name="Hosts">Its nodes as a Slurm host list, with GPUs of partly held nodes (<c>s-[0001-0002],s-0007 (GPUs 0-3)</c>); null while it waits.</param>
public sealed record ReplicaView(long Id, DateTimeOffset SubmittedAt, string? Site, string? Hosts);
