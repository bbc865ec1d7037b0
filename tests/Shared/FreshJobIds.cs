namespace GpuFleet.Tests.Shared;

/// <summary>
/// Job ids no earlier test or run used, for tests on a real Slurm: Slurm lists finished jobs by name
/// (<c>gpufleet-&lt;id&gt;</c>) for minutes, and a fresh database would start again at 1.
/// </summary>
internal static class FreshJobIds
{
    /// <summary>Makes the next job id of the database <paramref name="database"/> (its schema in place, no jobs yet) one no earlier run used.</summary>
    public static void Start(string database)
    {
        using var store = new GpuFleet.Server.Storage.JobStore(database);
        store.StartJobIdsAboveNow(DateTimeOffset.UtcNow);
    }
}
