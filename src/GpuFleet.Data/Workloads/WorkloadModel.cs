using System.Text.Json;
using System.Text.Json.Serialization;

namespace GpuFleet.Data.Workloads;

/// <summary>A fitted workload: components whose mix the generator scales to a fleet and a load.</summary>
public sealed record WorkloadModel(IReadOnlyList<WorkloadComponent> Components)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The model shipped with GpuFleet: fitted to the full Philly trace and the Kalos sample.</summary>
    public static WorkloadModel Default
    {
        get
        {
            using var stream = typeof(WorkloadModel).Assembly.GetManifestResourceStream("GpuFleet.Data.Workloads.philly-kalos.json")
                ?? throw new InvalidOperationException("embedded workload model missing");
            return Deserialize(stream, "embedded philly-kalos.json");
        }
    }

    /// <summary>Loads a model written by <see cref="Save"/>.</summary>
    public static WorkloadModel Load(string path)
    {
        if (!File.Exists(path)) throw new DataFileException(path, 0, "file", "not found");
        using var stream = File.OpenRead(path);
        return Deserialize(stream, path);
    }

    /// <summary>Writes the model as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    private static WorkloadModel Deserialize(Stream stream, string file)
    {
        WorkloadModel? model;
        try
        {
            model = JsonSerializer.Deserialize<WorkloadModel>(stream, Json);
        }
        catch (JsonException e)
        {
            throw new DataFileException(file, (e.LineNumber ?? -1) + 1, e.Path ?? "json", e.Message);
        }
        if (model?.Components is not { Count: > 0 }) throw new DataFileException(file, 0, "components", "at least one component is required");
        foreach (var (c, i) in model.Components.Select((c, i) => (c, i)))
        {
            if (c.Sizes is not { Count: > 0 }) throw new DataFileException(file, 0, $"components[{i}].sizes", "at least one size is required");
            if (c.HourlyArrivalWeights is not { Length: 24 }) throw new DataFileException(file, 0, $"components[{i}].hourlyArrivalWeights", "needs 24 values");
            if (c.Sizes.Any(s => s.DurationQuantiles is not { Length: 21 })) throw new DataFileException(file, 0, $"components[{i}].sizes", "each size needs 21 duration quantiles");
            if (c.Tenants is not { Count: > 0 }) throw new DataFileException(file, 0, $"components[{i}].tenants", "at least one tenant is required");
        }
        return model;
    }
}
