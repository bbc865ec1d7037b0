namespace GpuFleet.Tests.Shared;

/// <summary>
/// Job ids no earlier test or run used, for tests on a real Slurm: Slurm lists finished jobs by name
/// (<c>gpufleet-&lt;id&gt;</c>) for minutes, and a fresh database would start again at 1.
/// </summary>
internal static class FreshJobIds
{
    /// <summary>Makes the next job id of the SQLite database <paramref name="database"/> (its schema in place) one no earlier run used.</summary>
    public static void Start(string database)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO sqlite_sequence (name, seq) VALUES ('jobs', $seq);";
        command.Parameters.AddWithValue("$seq", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        command.ExecuteNonQuery();
    }
}
