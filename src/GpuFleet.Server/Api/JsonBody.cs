using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Api;

/// <summary>
/// Reads a request's JSON body, so that a value of the wrong type is a 400 naming its field (rather
/// than the framework's binding failure, which names none).
/// </summary>
public static class JsonBody
{
    /// <summary>The body as <typeparamref name="T"/>, or the 400 answer when it is not valid JSON for it.</summary>
    public static async Task<(T? Value, IResult? Invalid)> ReadAsync<T>(HttpRequest http, JsonSerializerOptions options, bool batch = false)
    {
        try
        {
            return (await JsonSerializer.DeserializeAsync<T>(http.Body, options, http.HttpContext.RequestAborted), null);
        }
        catch (JsonException e)
        {
            return (default, Results.ValidationProblem(new Dictionary<string, string[]>
            {
                [FieldOf(e.Path, batch)] = [Problem(e)],
            }));
        }
    }

    // The serializer names .NET types ("could not be converted to System.Nullable`1[System.Int32]"):
    // say what the field must be in the API's words instead.
    private static string Problem(JsonException e)
    {
        var message = e.Message.Split(" Path:")[0];
        if (message.StartsWith("Duplicate property", StringComparison.Ordinal)) return "appears more than once in the object";
        const string NotConverted = "The JSON value could not be converted to ";
        if (!message.StartsWith(NotConverted, StringComparison.Ordinal)) return $"is not valid JSON here: {message}";
        var type = message[NotConverted.Length..].TrimEnd('.');
        return type switch
        {
            _ when type.Contains("[System.Int32]", StringComparison.Ordinal) || type.Contains("[System.Int64]", StringComparison.Ordinal)
                => "must be a whole number (a JSON number, not a string)",
            "System.String" => "must be a string",
            _ when type.Contains("[System.String]", StringComparison.Ordinal) => "must be a list of strings",
            _ when type.StartsWith("System.Collections", StringComparison.Ordinal) => "must be a JSON array",
            _ => "must be a JSON object",
        };
    }

    /// <summary>
    /// The field a JSON path points into, as the API names fields: <c>$.gpus</c> and <c>$.models[3]</c> →
    /// <c>gpus</c>, <c>models</c>; in a batch <c>$[2].gpus</c> → <c>[2].gpus</c>; the whole body → <c>body</c>.
    /// </summary>
    public static string FieldOf(string? path, bool batch)
    {
        if (path is not { Length: > 1 } || path[0] != '$') return "body";
        var rest = path[1..];
        var element = "";
        if (batch && rest[0] == '[' && rest.IndexOf(']') is var close and > 0)
        {
            element = rest[..(close + 1)];
            rest = rest[(close + 1)..];
        }
        if (rest.Length < 2 || rest[0] != '.') return element.Length > 0 ? element : "body";
        var name = rest[1..].Split('.', '[')[0];
        return element.Length > 0 ? $"{element}.{name}" : name;
    }
}
