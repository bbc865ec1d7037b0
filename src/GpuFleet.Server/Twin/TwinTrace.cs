using System.Globalization;

namespace GpuFleet.Server.Twin;

/// <summary>
/// The jobs of a twin run, as chosen and checked: a sample (<see cref="Name"/>, read from <see cref="Path"/>),
/// an upload (the user's file name, kept at <see cref="Path"/> until the run ends), or a generated workload
/// (<see cref="Days"/>, <see cref="Load"/>, <see cref="Seed"/>).
/// </summary>
public sealed record TwinTrace(TwinTraceSource Source, string Name, string? Path = null, double Days = 0, double Load = 0, int Seed = 0)
{
    /// <summary>
    /// The trace's name in the report, as <c>simulate</c> names it: the file's name
    /// (<c>philly-2017-10.csv.gz</c>, the uploaded file's), or for a generated workload what made it.
    /// </summary>
    public string ReportName => Source == TwinTraceSource.Sample ? System.IO.Path.GetFileName(Path ?? Name) : Name;

    /// <summary>In words: <c>sample philly-2017-10</c>, <c>uploaded jobs.csv</c>, <c>generated: 7 days at load 0.9, seed 1</c>.</summary>
    public string Describe() => Source switch
    {
        TwinTraceSource.Sample => $"sample {Name}",
        TwinTraceSource.Upload => $"uploaded {Name}",
        _ => string.Create(CultureInfo.InvariantCulture, $"generated: {Days:0.###} days at load {Load:0.###}, seed {Seed}"),
    };

    /// <summary>
    /// The name a generated workload gets in the report, <c>generated-philly-7d-load0.9-seed1.csv</c>: the
    /// file <c>gpufleet workload generate --out</c> would write with the same fleet, days, load and seed.
    /// </summary>
    public static string GeneratedName(string fleet, double days, double load, int seed) =>
        string.Create(CultureInfo.InvariantCulture, $"generated-{fleet}-{days:0.###}d-load{load:0.###}-seed{seed}.csv");
}
