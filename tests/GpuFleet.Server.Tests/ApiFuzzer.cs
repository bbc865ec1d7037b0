using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuFleet.Server.Tests;

/// <summary>
/// Random and mutated requests for the job, batch, token and usage endpoints, from a seeded generator:
/// bodies built from valid templates and then broken (fields dropped, retyped, stretched, filled with
/// control characters, huge numbers and lists), bytes cut or flipped, wrong content types, odd
/// authorization headers and idempotency keys, and query strings of every shape. Job ids are often those of
/// jobs the run created (<paramref name="createdJobs"/>), so that a cancel reaches a job that can still be
/// cancelled however the clients' requests interleave, not only by the luck of a small random number.
/// </summary>
internal sealed class ApiFuzzer(Random rng, IReadOnlyList<string?> tokens, IReadOnlySet<long> keptTokenIds, Func<IReadOnlyList<long>> createdJobs)
{
    /// <summary>One request to send: method, path with query, body and its content type, headers.</summary>
    public sealed record Request(HttpMethod Method, string Path, byte[]? Body, string? ContentType, string? Authorization, string? IdempotencyKey)
    {
        /// <summary>What the request is for, to count outcomes by kind.</summary>
        public string Kind => $"{Method} {System.Text.RegularExpressions.Regex.Replace(Path.Split('?')[0], @"/(jobs|tokens)/(?!batch$)[^/]+$", "/$1/{id}")}";
    }

    private static readonly string[] Texts =
    [
        "", " ", "a", "b", "G", "job", "a\u0000b", "\u0007bell", "line\nbreak", "tab\tin", "\u001b[31m", "-1", "8", "null", "true",
        "<script>alert(1)</script>", "'; DROP TABLE jobs; --", "Ǆ日本語🚀", "\uFFFF", new string('x', 201), new string('y', 9_000),
        "admin", "tenant-admin", "member", "viewer", "5-", "Admin", "ADMIN", "tenant_admin", "root",
        "2026-11-25T00:00:00Z", "0001-01-05T00:00:00Z", "9999-12-31T23:59:59Z", "1e400", "NaN",
    ];

    // Header values stay printable ASCII: anything else the HTTP layer refuses before the application sees it.
    private static readonly string[] Keys = ["k1", "k2", "k3", "", new string('k', 201), "%00null", "key with spaces", "k/:;=?"];

    /// <summary>The next request.</summary>
    public Request Next()
    {
        var auth = Authorization();
        var key = rng.Next(3) == 0 ? Keys[rng.Next(Keys.Length)] : null;
        return rng.Next(9) switch
        {
            0 or 1 or 2 => Post("/api/v1/jobs", Job(), auth, key),
            3 => Post("/api/v1/jobs/batch", Batch(), auth, key),
            4 => Post("/api/v1/tokens", Mint(), auth, null),
            5 => new Request(HttpMethod.Delete, $"/api/v1/tokens/{TokenId()}", null, null, auth, null),
            6 => new Request(HttpMethod.Delete, $"/api/v1/jobs/{Id()}", null, null, auth, null),
            7 => new Request(HttpMethod.Get, "/api/v1/usage" + Query("from", "to", "tenant", "format"), null, null, auth, null),
            _ => new Request(HttpMethod.Get, "/api/v1/jobs" + Query("tenant", "state", "after", "limit"), null, null, auth, null),
        };
    }

    private Request Post(string path, JsonNode? body, string? auth, string? key)
    {
        var text = body?.ToJsonString() ?? "";
        var bytes = Encoding.UTF8.GetBytes(text);
        // A third of the bodies are broken below the JSON level.
        switch (rng.Next(12))
        {
            case 0 when bytes.Length > 0:
                bytes = bytes[..rng.Next(bytes.Length)];
                break;
            case 1 when bytes.Length > 0:
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                break;
            case 2:
                bytes = Encoding.UTF8.GetBytes(new string('[', 2_000) + new string(']', 2_000));
                break;
            case 3:
                bytes = Encoding.UTF8.GetBytes(text.Replace("\"gpus\":", "\"gpus\":1,\"gpus\":", StringComparison.Ordinal));
                break;
        }
        var type = rng.Next(10) switch { 0 => "text/plain", 1 => null, 2 => "application/json; charset=latin1", _ => "application/json" };
        return new Request(HttpMethod.Post, path, bytes, type, auth, key);
    }

    private string? Authorization()
    {
        var token = tokens[rng.Next(tokens.Count)];
        return rng.Next(12) switch
        {
            0 => null,
            1 => "Bearer",
            2 => "Basic dXNlcjpwYXNz",
            3 => $"bearer {token}",
            4 => $"Bearer  {token} ",
            5 => "Bearer gf_" + new string('z', 43),
            _ => token is null ? null : $"Bearer {token}",
        };
    }

    private JsonNode? Job()
    {
        var job = new JsonObject
        {
            ["name"] = rng.Next(2) == 0 ? "job" : Text(),
            ["tenant"] = rng.Next(3) == 0 ? null : (rng.Next(2) == 0 ? "a" : "b"),
            ["gpus"] = 1 + rng.Next(16),
            ["timeLimitSeconds"] = 60 + rng.Next(3_600),
        };
        if (job["tenant"] is null) job.Remove("tenant");
        if (rng.Next(3) == 0) job["models"] = new JsonArray("G");
        if (rng.Next(4) == 0) job["priority"] = rng.Next(-10, 10);
        if (rng.Next(4) == 0) job["command"] = "python train.py";
        if (rng.Next(4) == 0) job["runtimeSeconds"] = 1 + rng.Next(600);
        return Mutate(job);
    }

    private JsonNode? Batch()
    {
        if (rng.Next(15) == 0) return Mutate(new JsonObject { ["gpus"] = 1 });
        var count = rng.Next(20) == 0 ? 1_001 : rng.Next(6);
        var list = new JsonArray();
        for (var i = 0; i < count; i++) list.Add(count > 100 ? new JsonObject { ["tenant"] = "a", ["gpus"] = 1, ["timeLimitSeconds"] = 60 } : Job());
        return list;
    }

    private JsonNode? Mint() => Mutate(new JsonObject
    {
        ["role"] = new[] { "member", "viewer", "tenant-admin", "admin" }[rng.Next(4)],
        ["tenant"] = rng.Next(2) == 0 ? "a" : "b",
    });

    // Half the objects go out as generated; the others with one to three fields dropped, retyped or stretched.
    private JsonNode? Mutate(JsonObject o)
    {
        if (rng.Next(2) == 0) return o;
        var fields = new[] { "name", "tenant", "gpus", "models", "timeLimitSeconds", "priority", "priorityClass", "command", "runtimeSeconds", "role", "extra" };
        for (var n = 1 + rng.Next(3); n > 0; n--)
        {
            var field = fields[rng.Next(fields.Length)];
            if (rng.Next(5) == 0) o.Remove(field);
            else o[field] = Value(0);
        }
        return rng.Next(40) == 0 ? Value(0) : o;
    }

    private JsonNode? Value(int depth) => rng.Next(depth > 2 ? 4 : 7) switch
    {
        0 => null,
        1 => Text(),
        2 => Number(),
        3 => JsonValue.Create(rng.Next(2) == 0),
        4 => Array(depth),
        5 => new JsonObject { ["x"] = Value(depth + 1) },
        _ => Number(),
    };

    private JsonArray Array(int depth)
    {
        // Now and then a long list: its cost must stay bounded.
        var count = rng.Next(10) == 0 ? 20_000 + rng.Next(40_000) : rng.Next(5);
        var list = new JsonArray();
        for (var i = 0; i < count; i++) list.Add(count > 100 ? JsonValue.Create($"M{i}") : Value(depth + 1));
        return list;
    }

    private JsonNode Text()
    {
        var t = Texts[rng.Next(Texts.Length)];
        return JsonValue.Create(rng.Next(20) == 0 ? new string((char)rng.Next(0x20), 1 + rng.Next(4)) + t : t)!;
    }

    private JsonNode Number() => rng.Next(10) switch
    {
        0 => JsonValue.Create(int.MaxValue),
        1 => JsonValue.Create(int.MinValue),
        2 => JsonValue.Create(long.MaxValue),
        3 => JsonValue.Create(-1),
        4 => JsonValue.Create(0),
        5 => JsonValue.Create(1.5),
        6 => JsonValue.Create(1e300),
        7 => JsonNode.Parse("123456789012345678901234567890")!,
        _ => JsonValue.Create(rng.Next(-100, 100_000)),
    };

    // Tokens minted by these requests (the ids after those minted first), or junk; never one of the
    // tokens the requests are sent with, nor the one that checks the outcome: revoking those would
    // leave nothing but 401s.
    private string TokenId()
    {
        var id = rng.Next(4) == 0 ? Id() : (keptTokenIds.Max() + 1 + rng.Next(10)).ToString(CultureInfo.InvariantCulture);
        return long.TryParse(id, out var n) && keptTokenIds.Contains(n) ? "0" : id;
    }

    private string Id() => rng.Next(6) switch
    {
        0 => "0",
        1 => "-1",
        2 => "9223372036854775807",
        3 => "99999999999999999999",
        4 => "abc",
        _ => createdJobs() is { Count: > 0 } created && rng.Next(2) == 0
            ? created[rng.Next(created.Count)].ToString(CultureInfo.InvariantCulture)
            : rng.Next(1, 200).ToString(CultureInfo.InvariantCulture),
    };

    private string Query(params string[] names)
    {
        var parts = new List<string>();
        foreach (var name in names)
        {
            if (rng.Next(2) == 0) continue;
            var value = rng.Next(3) switch
            {
                0 => Texts[rng.Next(Texts.Length)],
                1 => rng.Next(-5, 2_000).ToString(CultureInfo.InvariantCulture),
                _ => name switch { "format" => "csv", "state" => "pending", "tenant" => "a", "limit" => "10", _ => "2026-11-01T00:00:00Z" },
            };
            // Within the server's 8 KB request line: a longer one is refused by the HTTP layer before the application sees it.
            parts.Add($"{name}={Uri.EscapeDataString(value.Length > 1_000 ? value[..1_000] : value)}");
        }
        if (rng.Next(30) == 0) parts.Add("from=" + new string('9', 3_000));
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
