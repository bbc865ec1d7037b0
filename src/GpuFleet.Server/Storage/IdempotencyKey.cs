using System.Security.Cryptography;
using System.Text.Json;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;

namespace GpuFleet.Server.Storage;

/// <summary>
/// An <c>Idempotency-Key</c> as the store keeps it: the key, the scope it is unique in (the caller's
/// tenant), and a hash of the request it was first used for — the calling token and the validated
/// jobs — so that the key answers a retry of that request with the first answer, and refuses any other.
/// </summary>
/// <param name="Scope">Where the key is unique: the caller's tenant ("" for an admin, whose calls may span tenants).</param>
/// <param name="Key">The client's key.</param>
/// <param name="RequestHash">SHA-256 (hex) of the request's canonical form.</param>
public sealed record IdempotencyKey(string Scope, string Key, string RequestHash)
{
    /// <summary>The key of a submission by <paramref name="caller"/>: one job, or a batch (one request for all its jobs).</summary>
    public static IdempotencyKey For(string key, Caller caller, IReadOnlyList<NewJob> jobs, bool batch) =>
        new(caller.Tenant ?? "", key, Hash(batch ? "batch" : "job", caller.TokenId, jobs));

    // The jobs as validated (defaults filled in, the name trimmed), with their models in one order: two
    // bodies that ask for the same jobs hash alike, however they are written. The token is part of the
    // request: another token's request under the same key is another request, however alike.
    private static string Hash(string kind, long token, IReadOnlyList<NewJob> jobs) =>
        Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new
        {
            kind,
            token,
            jobs = jobs.Select(j => j with { Models = [.. j.Models.Order(StringComparer.Ordinal)] }),
        })));
}
