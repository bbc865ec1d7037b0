using System.Data.Common;
using GpuFleet.Server.Security;

namespace GpuFleet.Server.Storage;

/// <summary>Writes audit entries: by the token store after a call, or by the job store in the same transaction as the change it records.</summary>
internal static class AuditRows
{
    public static Task InsertAsync(DbConnection c, DbTransaction t, bool batch, IReadOnlyList<AuditEntry> entries) =>
        RepeatedStatement.RunAsync(c, t, batch, "INSERT INTO audit (at, token_id, role, tenant, method, path, status) VALUES (@at, @id, @role, @tenant, @m, @p, @s);",
            [.. entries.Select(e => new (string, object?)[]
            {
                ("@at", e.At.ToUnixTimeMilliseconds()), ("@id", e.TokenId), ("@role", e.Role), ("@tenant", e.Tenant), ("@m", e.Method), ("@p", e.Path), ("@s", e.Status),
            })], scalar: false);
}
