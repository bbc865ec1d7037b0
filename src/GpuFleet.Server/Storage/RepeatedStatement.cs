using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.RegularExpressions;

namespace GpuFleet.Server.Storage;

/// <summary>
/// One SQL statement run once per row of arguments inside a transaction: as a single batch (one round
/// trip) where the database is across a socket, or by re-running one prepared command where it is in
/// the process. Example: 40 submissions group-committed together are 40 inserts in one round trip on
/// PostgreSQL, and 40 runs of one prepared insert on SQLite.
/// </summary>
internal static class RepeatedStatement
{
    private static readonly ConcurrentDictionary<string, string> PositionalSql = new();

    /// <summary>
    /// <paramref name="sql"/> with each <c>@name</c> replaced by <c>$n</c>, n its place in <paramref name="row"/>.
    /// With unnamed parameters the driver sends the text as it is instead of parsing it for names on
    /// every run. Example: <c>… VALUES (@a, @b)</c> with row (@a, @b) → <c>… VALUES ($1, $2)</c>.
    /// </summary>
    public static string Positional(string sql, (string Name, object? Value)[] row) =>
        PositionalSql.GetOrAdd(sql, text =>
        {
            var names = row.Select(a => a.Name.TrimStart('@')).ToList();
            return Regex.Replace(text, @"@(\w+)", m =>
            {
                var index = names.IndexOf(m.Groups[1].Value);
                return index < 0 ? throw new ArgumentException($"no argument for {m.Value}") : "$" + (index + 1);
            });
        });

    /// <summary>
    /// Runs <paramref name="sql"/> for each row; answers each run's first column of its one result row
    /// (<paramref name="scalar"/>) or the rows it affected.
    /// </summary>
    public static async Task<long[]> RunAsync(DbConnection c, DbTransaction t, bool batch, string sql, IReadOnlyList<(string Name, object? Value)[]> rows, bool scalar)
    {
        var answers = new long[rows.Count];
        if (rows.Count == 0) return answers;
        if (batch && c.CanCreateBatch)
        {
            await using var b = c.CreateBatch();
            b.Transaction = t;
            var positional = Positional(sql, rows[0]);
            foreach (var row in rows)
            {
                var command = b.CreateBatchCommand();
                command.CommandText = positional;
                foreach (var (_, value) in row)
                {
                    var p = command.CreateParameter();
                    p.Value = value ?? DBNull.Value;
                    command.Parameters.Add(p);
                }
                b.BatchCommands.Add(command);
            }
            if (scalar)
            {
                await using var r = await b.ExecuteReaderAsync();
                for (var i = 0; i < rows.Count; i++)
                {
                    if (i > 0) await r.NextResultAsync();
                    answers[i] = await r.ReadAsync() ? Convert.ToInt64(r.GetValue(0)) : 0;
                }
            }
            else
            {
                await b.ExecuteNonQueryAsync();
                for (var i = 0; i < rows.Count; i++) answers[i] = b.BatchCommands[i].RecordsAffected;
            }
            return answers;
        }
        await using var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = sql;
        foreach (var (name, _) in rows[0])
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            cmd.Parameters.Add(p);
        }
        for (var i = 0; i < rows.Count; i++)
        {
            for (var k = 0; k < rows[i].Length; k++) cmd.Parameters[k].Value = rows[i][k].Value ?? DBNull.Value;
            answers[i] = scalar ? Convert.ToInt64(await cmd.ExecuteScalarAsync()) : await cmd.ExecuteNonQueryAsync();
        }
        return answers;
    }
}
