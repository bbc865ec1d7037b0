using GpuFleet.Core.Workloads;

namespace GpuFleet.Tests.Shared;

/// <summary>
/// A job for tests, fluently: <c>Job(1).Tenant("a").Gpus(8).Models("h100").Limit(3600).At(0).Build()</c>
/// (with <c>using static GpuFleet.Tests.Shared.JobBuilder;</c>). Whatever is not said is the plainest
/// job: tenant "t", 1 GPU of any model, anywhere in a site, a limit of 100 s, priority 0, submitted at 0.
/// </summary>
internal sealed class JobBuilder
{
    private readonly long _id;
    private string _tenant = "t";
    private int _gpus = 1;
    private string[] _models = [];
    private TopologyNeed _topology = TopologyNeed.Site;
    private long _limit = 100;
    private int _priority;
    private long _at;
    private string? _class;
    private string? _site;
    private string? _dataSite;
    private long _checkpoint;

    private JobBuilder(long id) => _id = id;

    /// <summary>Starts a job with this id.</summary>
    public static JobBuilder Job(long id) => new(id);

    public JobBuilder Tenant(string tenant) { _tenant = tenant; return this; }
    public JobBuilder Gpus(int gpus) { _gpus = gpus; return this; }
    public JobBuilder Models(params string[] models) { _models = models; return this; }
    public JobBuilder Topology(TopologyNeed need) { _topology = need; return this; }
    /// <summary>Time limit in seconds.</summary>
    public JobBuilder Limit(long seconds) { _limit = seconds; return this; }
    public JobBuilder Priority(int priority) { _priority = priority; return this; }
    /// <summary>Submission time.</summary>
    public JobBuilder At(long time) { _at = time; return this; }
    /// <summary>Priority class by name; null: the tree's default.</summary>
    public JobBuilder Class(string? priorityClass) { _class = priorityClass; return this; }
    public JobBuilder Site(string site) { _site = site; return this; }
    public JobBuilder DataSite(string site) { _dataSite = site; return this; }
    /// <summary>Checkpoint interval in seconds.</summary>
    public JobBuilder Checkpoint(long seconds) { _checkpoint = seconds; return this; }

    public JobSpec Build() => new(_id, _tenant, _gpus, _models, _topology, _limit, _priority, _at)
    {
        PriorityClass = _class,
        Site = _site,
        DataSite = _dataSite,
        CheckpointIntervalSeconds = _checkpoint,
    };
}
