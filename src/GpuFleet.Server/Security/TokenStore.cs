using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace GpuFleet.Server.Security;

/// <summary>
/// Bearer tokens, stored only as SHA-256 hashes (a token is 32 random bytes, so a fast hash is
/// enough: there is nothing to guess), each bound to a role and a tenant; and the audit log of
/// state-changing calls. Shares the job database file.
/// </summary>
public sealed class TokenStore(string connectionString)
{
    /// <summary>Tables this store needs (run by the job store's migrations).</summary>
    public const string Schema = """
        CREATE TABLE tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, tenant TEXT, created_at INTEGER NOT NULL);
        CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, token_id INTEGER, role TEXT, tenant TEXT,
            method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL);
        """;

    /// <summary>Makes sure <paramref name="token"/> is an admin token (the bootstrap token from the environment).</summary>
    public void EnsureAdmin(string token, DateTimeOffset now)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT INTO tokens (hash, role, tenant, created_at) VALUES ($h, 'Admin', NULL, $at) ON CONFLICT(hash) DO UPDATE SET role = 'Admin', tenant = NULL;";
        cmd.Parameters.AddWithValue("$h", Hash(token));
        cmd.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>Mints a token; the plain token is returned once and never stored.</summary>
    public (string Token, Caller Caller) Mint(Role role, string? tenant, DateTimeOffset now)
    {
        var token = "gf_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT INTO tokens (hash, role, tenant, created_at) VALUES ($h, $r, $t, $at) RETURNING id;";
        cmd.Parameters.AddWithValue("$h", Hash(token));
        cmd.Parameters.AddWithValue("$r", role.ToString());
        cmd.Parameters.AddWithValue("$t", (object?)tenant ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
        var id = (long)cmd.ExecuteScalar()!;
        return (token, new Caller(id, role, tenant));
    }

    /// <summary>The caller a token stands for, or null for an unknown token.</summary>
    public Caller? Find(string token)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, role, tenant FROM tokens WHERE hash = $h;";
        cmd.Parameters.AddWithValue("$h", Hash(token));
        using var r = cmd.ExecuteReader();
        return r.Read() ? new Caller(r.GetInt64(0), Enum.Parse<Role>(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2)) : null;
    }

    /// <summary>Records a state-changing call.</summary>
    public void Audit(Caller? caller, string method, string path, int status, DateTimeOffset at)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT INTO audit (at, token_id, role, tenant, method, path, status) VALUES ($at, $id, $role, $tenant, $m, $p, $s);";
        cmd.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$id", (object?)caller?.TokenId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$role", (object?)caller?.Role.ToString() ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$tenant", (object?)caller?.Tenant ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$m", method);
        cmd.Parameters.AddWithValue("$p", path);
        cmd.Parameters.AddWithValue("$s", status);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The latest audit entries, newest first.</summary>
    public IReadOnlyList<AuditEntry> AuditLog(int limit)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT at, token_id, role, tenant, method, path, status FROM audit ORDER BY id DESC LIMIT $n;";
        cmd.Parameters.AddWithValue("$n", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<AuditEntry>();
        while (r.Read())
            list.Add(new AuditEntry(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), r.IsDBNull(1) ? null : r.GetInt64(1),
                r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6)));
        return list;
    }

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private SqliteConnection Open() => Storage.SqliteJobStore.OpenConnection(connectionString);
}
