using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using GpuFleet.Server.Storage;

namespace GpuFleet.Server.Security;

/// <summary>
/// Bearer tokens, stored only as SHA-256 hashes (a token is 32 random bytes, so a fast hash is
/// enough: there is nothing to guess), each bound to a role and a tenant; and the audit log of
/// state-changing calls. Lives in the job database, so every replica knows every token.
/// </summary>
public sealed class TokenStore
{
    private readonly JobStore store;
    private readonly TimeProvider _clock;
    // One delegate for the store's life: the group commit runs queued writes of the same delegate together.
    private readonly Func<DbConnection, DbTransaction, IReadOnlyList<AuditEntry>, Task<IReadOnlyList<bool>>> _auditAll;

    /// <summary>Tokens and audit log in <paramref name="store"/>'s database.</summary>
    public TokenStore(JobStore store, TimeProvider? clock = null)
    {
        this.store = store;
        _clock = clock ?? TimeProvider.System;
        _auditAll = AuditAll;
    }

    /// <summary>How long a replica trusts a token it looked up before reading it again: the longest a token revoked on another replica still works here.</summary>
    public static readonly TimeSpan RememberFor = TimeSpan.FromSeconds(30);

    /// <summary>How long a replica remembers that a token is unknown: the longest a token minted on another replica may be refused here after a failed try.</summary>
    public static readonly TimeSpan ForgetMissesAfter = TimeSpan.FromSeconds(5);

    /// <summary>Most unknown tokens remembered at once.</summary>
    public const int MaxRememberedMisses = 10_000;

    // A token's role and tenant never change once minted, so a replica remembers a looked-up token for
    // a while instead of reading it on every call; only revocation ends it (at once on the replica that
    // revokes, within RememberFor on the others).
    private readonly ConcurrentDictionary<string, (Caller Caller, long Until)> _known = new();

    // An unknown token is remembered only briefly (it may be minted on another replica, or be the
    // bootstrap token of one starting), but long enough that a flood of the same bad token reads the
    // database once per ForgetMissesAfter rather than once per request. Random tokens would fill it:
    // at MaxRememberedMisses it starts afresh, which bounds its memory and costs at most one more read
    // per remembered token.
    private readonly ConcurrentDictionary<string, long> _misses = new();

    /// <summary>How many unknown tokens are remembered now.</summary>
    internal int RememberedMisses => _misses.Count;

    /// <summary>
    /// Makes sure <paramref name="token"/> is an admin token (the bootstrap token from the environment).
    /// Runs once, at start, before the server takes calls: in a transaction of its own, on the calling thread.
    /// </summary>
    public void EnsureAdmin(string token, DateTimeOffset now)
    {
        var hash = Hash(token);
        _known.TryRemove(hash, out _);
        _misses.TryRemove(hash, out _);
        using var c = store.Open();
        using var t = c.BeginTransaction();
        JobStore.Exec(c, t,
            "INSERT INTO tokens (hash, role, tenant, created_at) VALUES (@h, 'Admin', NULL, @at) ON CONFLICT(hash) DO UPDATE SET role = 'Admin', tenant = NULL, revoked_at = NULL;",
            ("@h", hash), ("@at", now.ToUnixTimeMilliseconds()));
        t.Commit();
    }

    /// <summary>
    /// Mints a token; the plain token is returned once and never stored. <paramref name="audit"/>, when
    /// given, is committed in the same transaction.
    /// </summary>
    public async Task<(string Token, Caller Caller)> MintAsync(Role role, string? tenant, DateTimeOffset now, AuditEntry? audit = null)
    {
        var token = "gf_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var hash = Hash(token);
        var id = await store.WriteAsync(async (c, t) =>
        {
            var minted = Convert.ToInt64(await JobStore.ScalarAsync(c, t,
                "INSERT INTO tokens (hash, role, tenant, created_at) VALUES (@h, @r, @t, @at) RETURNING id;",
                ("@h", hash), ("@r", role.ToString()), ("@t", tenant), ("@at", now.ToUnixTimeMilliseconds())));
            if (audit is not null) await AuditRows.InsertAsync(c, t, store.Dialect.BatchesRoundTrips, [audit]);
            return minted;
        });
        _misses.TryRemove(hash, out _);
        return (token, new Caller(id, role, tenant));
    }

    /// <summary>The caller a token stands for, or null for an unknown token.</summary>
    public async Task<Caller?> FindAsync(string token, CancellationToken cancel = default)
    {
        var hash = Hash(token);
        var now = _clock.GetTimestamp();
        if (Remembered(hash, now) is { } remembered) return remembered;
        if (_misses.TryGetValue(hash, out var missedUntil) && now < missedUntil) return null;
        await using var c = await store.OpenAsync(cancel);
        await using var cmd = JobStore.Command(c, null, "SELECT id, role, tenant FROM tokens WHERE hash = @h AND revoked_at IS NULL;", ("@h", hash));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        if (!await r.ReadAsync(cancel))
        {
            _known.TryRemove(hash, out _);
            if (_misses.Count >= MaxRememberedMisses) _misses.Clear();
            _misses[hash] = now + Ticks(ForgetMissesAfter);
            return null;
        }
        var caller = new Caller(r.GetInt64(0), Enum.Parse<Role>(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2));
        _misses.TryRemove(hash, out _);
        _known[hash] = (caller, now + Ticks(RememberFor));
        return caller;
    }

    /// <summary>
    /// The caller a token stands for if this replica has looked it up lately and remembers it; null
    /// otherwise, without reading the database (for addresses barred after too many failures).
    /// </summary>
    public Caller? FindRemembered(string token) => Remembered(Hash(token), _clock.GetTimestamp());

    private Caller? Remembered(string hash, long now) => _known.TryGetValue(hash, out var known) && now < known.Until ? known.Caller : null;

    /// <summary>Tokens (never the tokens themselves), of one tenant or all, oldest first.</summary>
    public async Task<IReadOnlyList<TokenView>> ListAsync(string? tenant, CancellationToken cancel = default)
    {
        await using var c = await store.OpenAsync(cancel);
        await using var cmd = JobStore.Command(c, null,
            "SELECT id, role, tenant, created_at, revoked_at FROM tokens WHERE CAST(@t AS TEXT) IS NULL OR tenant = @t ORDER BY id;", ("@t", tenant));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<TokenView>();
        while (await r.ReadAsync(cancel))
            list.Add(new TokenView(r.GetInt64(0), Enum.Parse<Role>(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), r.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))));
        return list;
    }

    /// <summary>
    /// Revokes token <paramref name="id"/> (from now on it answers 401); false when there is no such live
    /// token. <paramref name="audit"/>, when given, is committed in the same transaction as the revocation.
    /// </summary>
    public async Task<bool> RevokeAsync(long id, DateTimeOffset now, AuditEntry? audit = null)
    {
        var revoked = await store.WriteAsync(async (c, t) =>
        {
            var done = await JobStore.ExecAsync(c, t, "UPDATE tokens SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL;",
                ("@at", now.ToUnixTimeMilliseconds()), ("@id", id)) > 0;
            if (done && audit is not null) await AuditRows.InsertAsync(c, t, store.Dialect.BatchesRoundTrips, [audit]);
            return done;
        });
        // Forget it here at once; other replicas read it again within RememberFor.
        foreach (var (hash, entry) in _known)
            if (entry.Caller.TokenId == id) _known.TryRemove(hash, out _);
        return revoked;
    }

    /// <summary>Records a state-changing call; group-committed with other writes, and done before the call is answered.</summary>
    public Task AuditAsync(AuditEntry entry) => store.WriteGroupedAsync(entry, _auditAll);

    private async Task<IReadOnlyList<bool>> AuditAll(DbConnection c, DbTransaction t, IReadOnlyList<AuditEntry> entries)
    {
        await AuditRows.InsertAsync(c, t, store.Dialect.BatchesRoundTrips, entries);
        return [.. entries.Select(_ => true)];
    }

    /// <summary>The latest audit entries, newest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditLogAsync(int limit, CancellationToken cancel = default)
    {
        await using var c = await store.OpenAsync(cancel);
        await using var cmd = JobStore.Command(c, null, "SELECT at, token_id, role, tenant, method, path, status FROM audit ORDER BY id DESC LIMIT @n;", ("@n", limit));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<AuditEntry>();
        while (await r.ReadAsync(cancel))
            list.Add(new AuditEntry(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), r.IsDBNull(1) ? null : r.GetInt64(1),
                r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6)));
        return list;
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
