namespace GpuFleet.Core.Workloads;

/// <summary>
/// What the scheduler knows of a job. Its real run time is not here: the scheduler plans with
/// <see cref="TimeLimitSeconds"/>, as Slurm does with a wall-time limit.
/// </summary>
/// <param name="Id">Unique job id.</param>
/// <param name="Tenant">Who submits and is charged.</param>
/// <param name="Gpus">GPUs asked for; the job is a gang (all or nothing).</param>
/// <param name="Models">Acceptable GPU models; empty means any. A gang always runs on one model.</param>
/// <param name="Topology">How far the job may spread.</param>
/// <param name="TimeLimitSeconds">Wall-time limit; the job is stopped when it is reached.</param>
/// <param name="Priority">Higher runs first among a tenant's jobs (and in the submit-order policies).</param>
/// <param name="SubmitTime">Submission time, in seconds on the scheduler's clock.</param>
public sealed record JobSpec(
    long Id,
    string Tenant,
    int Gpus,
    IReadOnlyList<string> Models,
    TopologyNeed Topology,
    long TimeLimitSeconds,
    int Priority,
    long SubmitTime);
