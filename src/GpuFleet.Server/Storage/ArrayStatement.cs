using System.Data.Common;

namespace GpuFleet.Server.Storage;

/// <summary>
/// One set-based statement over many rows, for PostgreSQL: each column travels as one array parameter
/// and the statement unnests them. Example: 40 submissions group-committed together are one
/// <c>INSERT … SELECT … FROM unnest(@names, @tenants, …)</c> instead of 40 inserts, which saves
/// PostgreSQL a parse, a plan and an executor start per row.
/// </summary>
internal static class ArrayStatement
{
    /// <summary>Runs <paramref name="sql"/> with the arrays as its parameters; answers the first column of every row it returns.</summary>
    public static async Task<long[]> ScalarsAsync(DbConnection c, DbTransaction t, string sql, params (string Name, object? Value)[] arrays)
    {
        await using var cmd = Command(c, t, sql, arrays);
        var answers = new List<long>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) answers.Add(r.GetInt64(0));
        return [.. answers];
    }

    /// <summary>Runs <paramref name="sql"/> with the arrays as its parameters; answers the rows it affected.</summary>
    public static async Task<int> ExecuteAsync(DbConnection c, DbTransaction t, string sql, params (string Name, object? Value)[] arrays)
    {
        await using var cmd = Command(c, t, sql, arrays);
        return await cmd.ExecuteNonQueryAsync();
    }

    private static DbCommand Command(DbConnection c, DbTransaction t, string sql, (string Name, object? Value)[] arrays)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = RepeatedStatement.Positional(sql, arrays);
        foreach (var (_, value) in arrays)
        {
            var p = cmd.CreateParameter();
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }
}
