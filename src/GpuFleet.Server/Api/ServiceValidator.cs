using System.Text.RegularExpressions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Hosting;

namespace GpuFleet.Server.Api;

/// <summary>
/// Checks a service before it is stored, every problem under its field: text and model, class and slice
/// fields by the job API's rules; the numbers by <see cref="ServiceScaler.Problem"/>; the region, the latency
/// budget and whether a replica could ever run by the core's own <see cref="ServiceFleet"/> on a scheduler
/// of the server's fleet and options (<see cref="FleetScheduler.Check"/>: too large for a node, no acceptable
/// model, beyond its tenant's guarantee under <c>static</c>...). One checking scheduler, behind a lock, rebuilt
/// past <see cref="FitChecker.MaxShapes"/> shapes as the job API's is.
/// </summary>
public sealed partial class ServiceValidator(ServerSettings settings)
{
    /// <summary>Longest service name: it is part of paths and of metric labels.</summary>
    public const int MaxNameLength = 63;
    /// <summary>Longest Prometheus query URL.</summary>
    public const int MaxUrlLength = 2_048;

    private readonly Fleet _fleet = settings.Fleet;
    private readonly HashSet<string> _leaves = [.. settings.Tenants.Leaves.Select(t => t.Name)];
    private readonly HashSet<string> _classes = [.. settings.Tenants.Classes.Select(c => c.Name)];
    private readonly Lock _gate = new();
    private FleetScheduler _core = new(settings.Fleet, settings.Scheduling);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    /// <summary>Null when <paramref name="name"/> can name a service, else what is wrong with it.</summary>
    public static string? NameProblem(string name) =>
        name.Length > MaxNameLength ? $"must be at most {MaxNameLength} characters"
        : !NamePattern().IsMatch(name) ? "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'"
        : null;

    /// <summary>The service and its Prometheus query URL, or the problems by field.</summary>
    public (ServiceSpec? Spec, string? PrometheusQueryUrl, Dictionary<string, string[]> Errors) Validate(CreateServiceRequest? r)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string problem) => errors.TryAdd(field, [problem]);
        if (r is null)
        {
            Add("body", "a JSON object is required");
            return (null, null, errors);
        }
        if (string.IsNullOrWhiteSpace(r.Name)) Add("name", "is required");
        else if (NameProblem(r.Name) is { } badName) Add("name", badName);
        if (string.IsNullOrWhiteSpace(r.Tenant)) Add("tenant", "is required");
        else if (RequestText.Problem(r.Tenant) is { } badTenant) Add("tenant", badTenant);
        else if (_leaves.Count > 0 && !_leaves.Contains(r.Tenant)) Add("tenant", $"unknown tenant '{r.Tenant}'");
        if (r.MaxReplicas is null) Add("maxReplicas", "is required");
        if (r.RequestsPerSecondPerReplica is null) Add("requestsPerSecondPerReplica", "is required");
        if (r.Models is { Count: > SubmissionValidator.MaxModels }) Add("models", $"must list at most {SubmissionValidator.MaxModels} GPU models");
        else if (r.Models is not null && ModelsProblem(r.Models) is { } badModels) Add("models", badModels);
        if (r.PriorityClass is not null)
        {
            if (RequestText.Problem(r.PriorityClass) is { } badClass) Add("priorityClass", badClass);
            else if (!_classes.Contains(r.PriorityClass))
                Add("priorityClass", $"unknown class '{r.PriorityClass}' (known: {string.Join(", ", _classes.Order())})");
        }
        if (r.CpusPerGpu is { } cpus && JobFieldRules.PerGpuAmountProblem(cpus) is { } badCpus) Add("cpusPerGpu", badCpus);
        if (r.MemoryGbPerGpu is { } memory && JobFieldRules.PerGpuAmountProblem(memory) is { } badMemory) Add("memoryGbPerGpu", badMemory);
        if (r.Region is not null && RequestText.Problem(r.Region) is { } badRegion) Add("region", badRegion);
        SliceRequest? slice = null;
        if (r.Slice is not null)
        {
            var (asked, shape) = r.Slice.ToRequest();
            if ((shape ?? JobFieldRules.SliceProblem(asked!) ?? JobFieldRules.SliceFleetProblem(_fleet, asked!)) is { } badSlice) Add("slice", badSlice);
            else slice = asked;
        }
        if (r.PrometheusQueryUrl is not null && UrlProblem(r.PrometheusQueryUrl) is { } badUrl) Add("prometheusQueryUrl", badUrl);
        if (errors.Count > 0) return (null, null, errors);
        var spec = new ServiceSpec(r.Name!, r.Tenant!, r.GpusPerReplica ?? 1, r.MinReplicas ?? 0, r.MaxReplicas!.Value,
            r.RequestsPerSecondPerReplica!.Value, r.TargetUtilization ?? 1)
        {
            Models = [.. (r.Models ?? []).Distinct()],
            Slice = slice,
            CpusPerGpu = r.CpusPerGpu ?? 0,
            MemoryGbPerGpu = r.MemoryGbPerGpu ?? 0,
            PriorityClass = r.PriorityClass,
            Region = r.Region,
            LatencyBudgetMs = r.LatencyBudgetMs,
            StandbyReplicas = r.StandbyReplicas ?? 0,
        };
        if (ServiceScaler.Problem(spec) is { } numbers)
        {
            Add(numbers.Field, numbers.Problem);
            return (null, null, errors);
        }
        if (FitProblem(spec) is { } never)
        {
            Add(never.Field, never.Problem);
            return (null, null, errors);
        }
        return (spec, r.PrometheusQueryUrl, errors);
    }

    // The region, the budget and the replica's fit, as the core decides them; a replica's reason names a job's
    // field ("gpus: 16 GPUs can never fit within one node"), given under the service's (gpusPerReplica).
    private (string Field, string Problem)? FitProblem(ServiceSpec spec)
    {
        lock (_gate)
        {
            try
            {
                _ = new ServiceFleet(_core, [spec]);
                return null;
            }
            catch (ServiceValidationException e)
            {
                if (e.Field != "replica") return (e.Field, e.Problem);
                var colon = e.Problem.IndexOf(": ", StringComparison.Ordinal);
                var field = colon > 0 && e.Problem[..colon].All(char.IsAsciiLetter) ? e.Problem[..colon] : null;
                var problem = field is null ? e.Problem : e.Problem[(colon + 2)..];
                return (field switch { "gpus" or "topology" => "gpusPerReplica", null => "body", _ => field }, $"a replica can never run: {problem}");
            }
            finally
            {
                if (_core.JobClassCount > FitChecker.MaxShapes) _core = new FleetScheduler(settings.Fleet, settings.Scheduling);
            }
        }
    }

    private static string? UrlProblem(string url) =>
        RequestText.Problem(url, MaxUrlLength)
        ?? (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? null : "must be an absolute http or https URL");

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
