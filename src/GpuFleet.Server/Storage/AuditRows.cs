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
        : batch ? ArrayStatement.ExecuteAsync(c, t, ArrayInsertSql + ";", ArrayArguments(entries))
        : RepeatedStatement.RunAsync(c, t, batch: false, "INSERT INTO audit (at, token_id, role, tenant, method, path, status) VALUES (@at, @id, @role, @tenant, @m, @p, @s);",
            [.. entries.Select(e => new (string, object?)[]
            {
                ("@at", e.At.ToUnixTimeMilliseconds()), ("@id", e.TokenId), ("@role", e.Role), ("@tenant", e.Tenant), ("@m", e.Method), ("@p", e.Path), ("@s", e.Status),
            })], scalar: false);

    /// <summary>
    /// The set-based insert, with <see cref="ArrayArguments"/>: run alone, or as one step of a larger
    /// statement so that a change and its audit take one round trip (submissions on PostgreSQL).
    /// </summary>
    public const string ArrayInsertSql = """
        INSERT INTO audit (at, token_id, role, tenant, method, path, status)
        SELECT * FROM unnest(@auditAt, @auditToken, @auditRole, @auditTenant, @auditMethod, @auditPath, @auditStatus)
        """;

    /// <summary>The entries as the array parameters of <see cref="ArrayInsertSql"/>.</summary>
    public static (string Name, object? Value)[] ArrayArguments(IReadOnlyList<AuditEntry> entries) =>
    [
        ("@auditAt", entries.Select(e => e.At.ToUnixTimeMilliseconds()).ToArray()), ("@auditToken", entries.Select(e => e.TokenId).ToArray()),
        ("@auditRole", entries.Select(e => e.Role).ToArray()), ("@auditTenant", entries.Select(e => e.Tenant).ToArray()),
        ("@auditMethod", entries.Select(e => e.Method).ToArray()), ("@auditPath", entries.Select(e => e.Path).ToArray()),
        ("@auditStatus", entries.Select(e => e.Status).ToArray()),
    ];
}
