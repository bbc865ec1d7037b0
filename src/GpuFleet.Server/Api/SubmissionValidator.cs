using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Api;

/// <summary>
/// Checks a submission against the fleet and the tenant tree before anything is stored: every problem
/// is reported under the name of its field, so a client can show it next to the input. Each field's
/// bound is checked before any work in proportion to its size, and a field gets one problem (the
/// first found), so that neither the work nor the answer grows with what a client sends. The fields a
/// native trace also has are checked by the rules the trace reader uses (<see cref="JobFieldRules"/>);
/// a job whose fields are each acceptable but that can never run on the fleet is refused by the
/// scheduling core's own rules (<see cref="FitChecker"/>).
/// </summary>
public sealed class SubmissionValidator(ServerSettings settings)
{
    /// <summary>Longest name, tenant or priority class accepted.</summary>
    public const int MaxNameLength = RequestText.MaxLength;
    /// <summary>Longest command accepted.</summary>
    public const int MaxCommandLength = 8_192;
    /// <summary>Most entries in <c>models</c>.</summary>
    public const int MaxModels = 64;
    /// <summary>Lowest <c>priority</c>; with <see cref="MaxPriority"/>, far from the integer limits, where the scheduler's ordering would wrap.</summary>
    public const int MinPriority = -1_000_000;
    /// <summary>Highest <c>priority</c>.</summary>
    public const int MaxPriority = 1_000_000;
    /// <summary>Longest time limit or run time: a year.</summary>
    public const long MaxSeconds = 365L * 86_400;

    private readonly Fleet _fleet = settings.Fleet;
    private readonly TenantTree _tenants = settings.Tenants;
    private readonly HashSet<string> _leaves = [.. settings.Tenants.Leaves.Select(t => t.Name)];
    private readonly HashSet<string> _classes = [.. settings.Tenants.Classes.Select(c => c.Name)];
    private readonly FitChecker _fit = new(settings);

    /// <summary>The job to store, or the problems by field.</summary>
    public (NewJob? Job, Dictionary<string, string[]> Errors) Validate(SubmitJobRequest? r)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string problem) => errors.TryAdd(field, [problem]);
        if (r is null)
        {
            Add("body", "a JSON object is required");
            return (null, errors);
        }
        if (r.Name is not null && RequestText.Problem(r.Name) is { } badName) Add("name", badName);
        if (string.IsNullOrWhiteSpace(r.Tenant)) Add("tenant", "is required");
        else if (RequestText.Problem(r.Tenant) is { } badTenant) Add("tenant", badTenant);
        else if (_leaves.Count > 0 && !_leaves.Contains(r.Tenant)) Add("tenant", $"unknown tenant '{r.Tenant}'");
        if (r.Gpus is null) Add("gpus", "is required");
        else if (r.Gpus < 1) Add("gpus", "must be at least 1");
        else if (r.Gpus > _fleet.TotalGpus) Add("gpus", $"must be at most {_fleet.TotalGpus}, the fleet's size");
        if (r.TimeLimitSeconds is null) Add("timeLimitSeconds", "is required");
        else if (r.TimeLimitSeconds is < 1 or > MaxSeconds) Add("timeLimitSeconds", $"must be between 1 and {MaxSeconds} (a year)");
        if (r.RuntimeSeconds is < 1 or > MaxSeconds) Add("runtimeSeconds", $"must be between 1 and {MaxSeconds} (a year)");
        if (r.Priority is < MinPriority or > MaxPriority) Add("priority", $"must be between {MinPriority} and {MaxPriority}");
        if (r.Models is { Count: > MaxModels }) Add("models", $"must list at most {MaxModels} GPU models");
        else if (r.Models is not null && ModelsProblem(r.Models) is { } badModels) Add("models", badModels);
        if (r.PriorityClass is not null)
        {
            if (RequestText.Problem(r.PriorityClass) is { } badClass) Add("priorityClass", badClass);
            else if (!_classes.Contains(r.PriorityClass))
                Add("priorityClass", $"unknown class '{r.PriorityClass}' (known: {string.Join(", ", _tenants.Classes.Select(c => c.Name))})");
        }
        if (r.Command is not null && RequestText.Problem(r.Command, MaxCommandLength, tabsAndNewlines: true) is { } badCommand) Add("command", badCommand);
        var topology = TopologyNeed.Site;
        if (r.Topology is not null)
        {
            if (RequestText.Problem(r.Topology) is { } badTopology) Add("topology", badTopology);
            else if (JobFieldRules.ParseTopology(r.Topology) is { } need) topology = need;
            else Add("topology", JobFieldRules.TopologyProblem(r.Topology));
        }
        if (r.Site is not null && SiteProblem(r.Site) is { } badSite) Add("site", badSite);
        if (r.DataSite is not null && SiteProblem(r.DataSite) is { } badDataSite) Add("dataSite", badDataSite);
        if (r.DataGb is { } gb && JobFieldRules.DataGbProblem(gb) is { } badGb) Add("dataGb", badGb);
        if (r.CheckpointSeconds is { } checkpoint && JobFieldRules.CheckpointSecondsProblem(checkpoint) is { } badCheckpoint) Add("checkpointSeconds", badCheckpoint);
        var cpusPerGpu = PerGpu(r.Cpus, r.CpusPerGpu, r.Gpus, "cpus", "cpusPerGpu", Add);
        var memoryGbPerGpu = PerGpu(r.MemoryGb, r.MemoryGbPerGpu, r.Gpus, "memoryGb", "memoryGbPerGpu", Add);
        SliceRequest? slice = null;
        if (r.Slice is not null)
        {
            var (asked, shape) = r.Slice.ToRequest();
            if ((shape ?? JobFieldRules.SliceProblem(asked!) ?? JobFieldRules.SliceFleetProblem(_fleet, asked!)) is { } badSlice) Add("slice", badSlice);
            else slice = asked;
        }
        if (errors.Count > 0) return (null, errors);
        var name = string.IsNullOrWhiteSpace(r.Name) ? "job" : r.Name.Trim();
        var job = new NewJob(name, r.Tenant!, r.Gpus!.Value, [.. (r.Models ?? []).Distinct()], r.TimeLimitSeconds!.Value, r.Priority ?? 0,
            r.PriorityClass, r.Command, r.RuntimeSeconds, topology, r.Site, r.DataSite, r.DataGb ?? 0, (long)(r.CheckpointSeconds ?? 0),
            cpusPerGpu, memoryGbPerGpu, slice);
        // Each field is acceptable; whether they fit the fleet together is the core's question.
        if (_fit.Problem(job) is { } never)
        {
            Add(never.Field, never.Problem);
            return (null, errors);
        }
        return (job, errors);
    }

    // A CPU or memory request, given for the whole job or per GPU (not both), as the amount per GPU; 0 when
    // neither is given or one is refused (the refusal is added under the field given).
    private static double PerGpu(double? perJob, double? perGpu, int? gpus, string jobField, string gpuField, Action<string, string> add)
    {
        if (perJob is not null && perGpu is not null)
        {
            add(jobField, $"give {jobField} (for the whole job) or {gpuField}, not both");
            return 0;
        }
        if (perGpu is { } each)
        {
            if (JobFieldRules.PerGpuAmountProblem(each) is { } bad) add(gpuField, bad);
            return each;
        }
        if (perJob is not { } total) return 0;
        if (JobFieldRules.PerGpuAmountProblem(total) is { } badTotal)
        {
            add(jobField, badTotal);
            return 0;
        }
        // Without a valid gpus the request is refused under gpus already.
        return gpus is >= 1 ? total / gpus.Value : 0;
    }

    private string? SiteProblem(string site) => RequestText.Problem(site) ?? JobFieldRules.SiteProblem(_fleet, site);

    // The first bad entry; the list is at most MaxModels long by now.
    private string? ModelsProblem(IReadOnlyList<string> models)
    {
        for (var i = 0; i < models.Count; i++)
        {
            if (models[i] is not { } m) return $"entry {i} must be a GPU model's name";
            if (RequestText.Problem(m) is { } bad) return $"entry {i} {bad}";
            if (_fleet.ModelIndex(m) < 0) return $"unknown GPU model '{m}' (the fleet has {string.Join(", ", _fleet.Models.Select(x => x.Name))})";
        }
        return null;
    }
}
