using System.Data.Common;
using GpuFleet.Server.Security;

namespace GpuFleet.Server.Storage;

/// <summary>Writes audit entries: by the token store after a call, or by the job store in the same transaction as the change it records.</summary>
internal static class AuditRows
{
    /// <summary>
    /// Inserts the entries: with <paramref name="batch"/> (a database across a socket) as one set-based
    /// statement, otherwise by re-running one prepared insert.
    /// </summary>
    public static Task InsertAsync(DbConnection c, DbTransaction t, bool batch, IReadOnlyList<AuditEntry> entries) =>
        entries.Count == 0 ? Task.CompletedTask
        : batch ? ArrayStatement.ExecuteAsync(c, t, """
            INSERT INTO audit (at, token_id, role, tenant, method, path, status)
            SELECT * FROM unnest(@at, @id, @role, @tenant, @m, @p, @s);
            """,
            ("@at", entries.Select(e => e.At.ToUnixTimeMilliseconds()).ToArray()), ("@id", entries.Select(e => e.TokenId).ToArray()),
            ("@role", entries.Select(e => e.Role).ToArray()), ("@tenant", entries.Select(e => e.Tenant).ToArray()),
            ("@m", entries.Select(e => e.Method).ToArray()), ("@p", entries.Select(e => e.Path).ToArray()), ("@s", entries.Select(e => e.Status).ToArray()))
        : RepeatedStatement.RunAsync(c, t, batch: false, "INSERT INTO audit (at, token_id, role, tenant, method, path, status) VALUES (@at, @id, @role, @tenant, @m, @p, @s);",
            [.. entries.Select(e => new (string, object?)[]
            {
                ("@at", e.At.ToUnixTimeMilliseconds()), ("@id", e.TokenId), ("@role", e.Role), ("@tenant", e.Tenant), ("@m", e.Method), ("@p", e.Path), ("@s", e.Status),
            })], scalar: false);
}
