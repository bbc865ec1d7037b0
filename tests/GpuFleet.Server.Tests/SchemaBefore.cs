using System.Data.Common;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Tests;

/// <summary>A database as an older release left it: the migrations before the first that contains a text, then rows written then.</summary>
internal static class SchemaBefore
{
    /// <summary>
    /// Makes <paramref name="db"/> with every migration before the first containing <paramref name="marker"/>
    /// and runs <paramref name="seed"/> on it; fails if no migration contains the marker.
    /// </summary>
    public static void Create(string db, string marker, Action<DbConnection> seed)
    {
        var dialect = StoreDialect.For(db);
        var before = dialect.Migrations.ToList().FindIndex(m => m.Contains(marker, StringComparison.Ordinal));
        Assert.True(before > 0, $"no migration after the first contains '{marker}'");
        using var source = dialect.CreateDataSource(db, TimeSpan.FromSeconds(10));
        using var c = source.OpenConnection();
        JobStore.Exec(c, null, "CREATE TABLE schema_version (version INTEGER NOT NULL);");
        for (var v = 0; v < before; v++)
        {
            JobStore.Exec(c, null, dialect.Migrations[v]);
            JobStore.Exec(c, null, "INSERT INTO schema_version (version) VALUES (@v);", ("@v", v + 1));
        }
        seed(c);
    }
}
