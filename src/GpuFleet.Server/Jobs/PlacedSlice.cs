using System.Text.Json;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;

namespace GpuFleet.Server.Jobs;

/// <summary>
/// One slice of a GPU a job was placed on, as the store keeps it with the run and the API shows it:
/// <c>{ "node": "sejong-b200-0007", "gpu": 3, "migProfile": "1g.23gb", "migStart": 2, "fraction": 0.1429, "memoryGb": 23 }</c>;
/// a time-shared share has <c>migProfile</c> and <c>migStart</c> null.
/// </summary>
/// <param name="Node">The node by name.</param>
/// <param name="Gpu">The GPU's position in the node.</param>
/// <param name="MigProfile">The MIG profile of the instance; null for a time-shared share.</param>
/// <param name="MigStart">The memory slice the MIG instance starts at; null for a time-shared share.</param>
/// <param name="Fraction">Its share of the GPU's compute: the GPU-equivalents it is charged.</param>
/// <param name="MemoryGb">Device memory it holds.</param>
public sealed record PlacedSlice(string Node, int Gpu, string? MigProfile, int? MigStart, double Fraction, double MemoryGb)
{
    /// <summary>The slices of a placement, named as in <paramref name="fleet"/>; null for whole GPUs.</summary>
    public static IReadOnlyList<PlacedSlice>? Of(PlacementDecision placement, Fleet fleet) =>
        placement.Slices?.Select(s => new PlacedSlice(fleet.NodeName(s.Node), s.Gpu, s.MigProfile, s.MigProfile is null ? null : s.MigStart,
            s.Fraction, s.MemoryGb)).ToList();

    /// <summary>How the store's <c>slices</c> column holds them: a JSON array; null for whole GPUs.</summary>
    public static string? Column(IReadOnlyList<PlacedSlice>? slices) => slices is null ? null : JsonSerializer.Serialize(slices, JsonSerializerOptions.Web);

    /// <summary>The slices of a <c>slices</c> column; null for whole GPUs.</summary>
    /// <exception cref="InvalidDataException">The column does not hold a list of slices.</exception>
    public static IReadOnlyList<PlacedSlice>? Parse(long jobId, string? column)
    {
        if (column is null) return null;
        try
        {
            return JsonSerializer.Deserialize<List<PlacedSlice>>(column, JsonSerializerOptions.Web)
                ?? throw new InvalidDataException($"job {jobId}: its slices column is null JSON");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"job {jobId}: its slices column is not a list of slices: {e.Message}", e);
        }
    }

    /// <summary>How <c>gpufleet show</c> prints it: <c>sejong-b200-0007 GPU 3: 1g.23gb@2</c>, or <c>… GPU 3: 0.25 of its time, 20 GB</c>.</summary>
    public override string ToString() => MigProfile is { } profile
        ? FormattableString.Invariant($"{Node} GPU {Gpu}: {profile}@{MigStart}")
        : FormattableString.Invariant($"{Node} GPU {Gpu}: {Fraction} of its time, {MemoryGb} GB");
}
