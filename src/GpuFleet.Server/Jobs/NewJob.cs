using System.Text.Json.Serialization;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Server.Jobs;

/// <summary>
/// A validated submission, before it has an id. It carries every field of the native trace's jobs
/// (<see cref="JobSpec"/>), so a job submitted live is scheduled as the twin schedules it.
/// </summary>
/// <param name="Name">Free name.</param>
/// <param name="Tenant">Who submits and is charged.</param>
/// <param name="Gpus">GPUs of the gang.</param>
/// <param name="Models">Acceptable GPU models; empty: any.</param>
/// <param name="TimeLimitSeconds">Wall-time limit.</param>
/// <param name="Priority">Priority within the tenant.</param>
/// <param name="PriorityClass">Priority class of the tenant tree; null: the tree's default.</param>
/// <param name="Command">What to run.</param>
/// <param name="RuntimeSeconds">How long it really runs, for the simulated executor; null: drawn from its limit.</param>
/// <param name="Topology">How far the gang may spread.</param>
/// <param name="Site">Site it must run at; null: any.</param>
/// <param name="DataSite">Site where its input data lives; null: none.</param>
/// <param name="DataGb">Size of that data.</param>
/// <param name="CheckpointSeconds">How often it checkpoints; 0: it does not.</param>
/// <param name="CpusPerGpu">CPU cores for each GPU (or slice), on that GPU's node; 0: not asked.</param>
/// <param name="MemoryGbPerGpu">Memory in GB for each GPU (or slice), on that GPU's node; 0: not asked.</param>
/// <param name="Slice">Part of a GPU per member of the gang; null: whole GPUs.</param>
public sealed record NewJob(
    string Name,
    string Tenant,
    int Gpus,
    IReadOnlyList<string> Models,
    long TimeLimitSeconds,
    int Priority,
    string? PriorityClass,
    string? Command,
    long? RuntimeSeconds,
    // Left out of the JSON when at their defaults, so that an Idempotency-Key's request hash (the jobs
    // as JSON) of a job without them is what it was before they existed: a retry across an upgrade is
    // still the same request.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] TopologyNeed Topology = TopologyNeed.Site,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] string? Site = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] string? DataSite = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double DataGb = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long CheckpointSeconds = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double CpusPerGpu = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double MemoryGbPerGpu = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] SliceRequest? Slice = null)
{
    /// <summary>The job as the scheduling core takes it, with its id and its submit time on the scheduler's clock.</summary>
    public JobSpec ToSpec(long id, long submitTime) =>
        new(id, Tenant, Gpus, Models, Topology, TimeLimitSeconds, Priority, submitTime)
        {
            PriorityClass = PriorityClass,
            Site = Site,
            DataSite = DataSite,
            DataGb = DataGb,
            CheckpointIntervalSeconds = CheckpointSeconds,
            CpusPerGpu = CpusPerGpu,
            MemoryGbPerGpu = MemoryGbPerGpu,
            Slice = Slice,
        };
}
