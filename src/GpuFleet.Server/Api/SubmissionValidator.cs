using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Api;

/// <summary>
/// Checks a submission against the fleet and the tenant tree before anything is stored: every problem
/// is reported under the name of its field, so a client can show it next to the input.
/// </summary>
public sealed class SubmissionValidator(Fleet fleet, TenantTree tenants)
{
    /// <summary>Longest name, tenant or priority class accepted.</summary>
    public const int MaxNameLength = 200;
    /// <summary>Longest command accepted.</summary>
    public const int MaxCommandLength = 8_192;

    private readonly HashSet<string> _leaves = [.. tenants.Leaves.Select(t => t.Name)];

    /// <summary>The job to store, or the problems by field.</summary>
    public (NewJob? Job, Dictionary<string, string[]> Errors) Validate(SubmitJobRequest? r)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string problem) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], problem];
        if (r is null)
        {
            Add("body", "a JSON object is required");
            return (null, errors);
        }
        var name = string.IsNullOrWhiteSpace(r.Name) ? "job" : r.Name.Trim();
        if (name.Length > MaxNameLength) Add("name", $"must be at most {MaxNameLength} characters");
        if (string.IsNullOrWhiteSpace(r.Tenant)) Add("tenant", "is required");
        else if (r.Tenant.Length > MaxNameLength) Add("tenant", $"must be at most {MaxNameLength} characters");
        else if (_leaves.Count > 0 && !_leaves.Contains(r.Tenant)) Add("tenant", $"unknown tenant '{r.Tenant}'");
        if (r.Gpus is null) Add("gpus", "is required");
        else if (r.Gpus < 1) Add("gpus", "must be at least 1");
        else if (r.Gpus > fleet.TotalGpus) Add("gpus", $"must be at most {fleet.TotalGpus}, the fleet's size");
        if (r.TimeLimitSeconds is null) Add("timeLimitSeconds", "is required");
        else if (r.TimeLimitSeconds < 1) Add("timeLimitSeconds", "must be at least 1");
        else if (r.TimeLimitSeconds > 365L * 86_400) Add("timeLimitSeconds", "must be at most a year");
        if (r.RuntimeSeconds is < 1) Add("runtimeSeconds", "must be at least 1");
        foreach (var m in r.Models ?? [])
            if (fleet.ModelIndex(m ?? "") < 0) Add("models", $"unknown GPU model '{m}' (the fleet has {string.Join(", ", fleet.Models.Select(x => x.Name))})");
        if (r.PriorityClass is not null && tenants.Classes.All(c => c.Name != r.PriorityClass))
            Add("priorityClass", $"unknown class '{r.PriorityClass}' (known: {string.Join(", ", tenants.Classes.Select(c => c.Name))})");
        if (r.Command is { Length: > MaxCommandLength }) Add("command", $"must be at most {MaxCommandLength} characters");
        if (errors.Count > 0) return (null, errors);
        return (new NewJob(name, r.Tenant!, r.Gpus!.Value, [.. (r.Models ?? []).Distinct()], r.TimeLimitSeconds!.Value, r.Priority ?? 0,
            r.PriorityClass, r.Command, r.RuntimeSeconds), errors);
    }
}
