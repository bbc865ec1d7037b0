using System.Text.Json;
using Xunit.Sdk;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>
/// Checks a submission body against the version's published schema (<c>job-submit.schema.json</c>, the
/// excerpt that build-from-schema.py takes from it): every key is one the schema has, every value of the
/// JSON type it says, and an enumerated value one of its values.
/// </summary>
internal static class SubmissionSchema
{
    // Keys 22.05's v0.0.38 parser accepts though its published schema leaves them out: it reads a job as
    // sbatch's long options (job_params[] in src/plugins/openapi/v0.0.38/jobs.c, "nodelist" = -w,
    // "no_requeue" = --no-requeue, marked "not in OAS" there).
    private static readonly string[] Unlisted038 = ["nodelist", "no_requeue"];

    public static void Check(string version, JsonElement body)
    {
        var file = Path.Combine(FakeSlurmRest.Directory(version), "job-submit.schema.json");
        var spec = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(file));
        var schemas = spec.GetProperty("components").GetProperty("schemas");
        Walk(body, Ref(spec.GetProperty("root").GetString()!), schemas, "body", version == "v0.0.38" ? Unlisted038 : []);
    }

    private static JsonElement Ref(string name) => JsonSerializer.Deserialize<JsonElement>($$"""{"$ref":"#/components/schemas/{{name}}"}""");

    private static JsonElement Resolve(JsonElement schema, JsonElement schemas)
    {
        while (schema.TryGetProperty("$ref", out var r)) schema = schemas.GetProperty(r.GetString()!.Split('/')[^1]);
        return schema;
    }

    private static void Walk(JsonElement value, JsonElement schema, JsonElement schemas, string path, string[] unlisted)
    {
        var s = Resolve(schema, schemas);
        var type = s.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                Expect(type is null or "object", path, "an object", type);
                if (!s.TryGetProperty("properties", out var properties)) return;
                foreach (var p in value.EnumerateObject())
                {
                    if (properties.TryGetProperty(p.Name, out var inner)) Walk(p.Value, inner, schemas, $"{path}.{p.Name}", unlisted);
                    else if (!unlisted.Contains(p.Name)) throw new XunitException($"{path}.{p.Name} is not in the schema");
                }
                return;
            case JsonValueKind.Array:
                Expect(type == "array", path, "a list", type);
                var i = 0;
                foreach (var item in value.EnumerateArray()) Walk(item, s.GetProperty("items"), schemas, $"{path}[{i++}]", unlisted);
                return;
            case JsonValueKind.String:
                Expect(type is null or "string", path, "a string", type);
                if (s.TryGetProperty("enum", out var values))
                    Expect(values.EnumerateArray().Any(v => v.GetString() == value.GetString()), path, $"'{value.GetString()}'", values.GetRawText());
                return;
            case JsonValueKind.Number:
                Expect(type is null or "integer" or "number", path, "a number", type);
                return;
            case JsonValueKind.True or JsonValueKind.False:
                Expect(type is null or "boolean", path, "a boolean", type);
                return;
            default:
                throw new XunitException($"{path}: unexpected {value.ValueKind}");
        }
    }

    private static void Expect(bool ok, string path, string found, string? schema)
    {
        if (!ok) throw new XunitException($"{path} is {found}; the schema says {schema}");
    }
}
