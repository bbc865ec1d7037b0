using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Api;

/// <summary>
/// Reads a request's JSON body, so that a value of the wrong type, or a field the request does not
/// have, is a 400 naming its field (rather than the framework's binding failure, which names none,
/// or a silently dropped field).
/// </summary>
public static partial class JsonBody
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
            if (UnmappedMember().Match(e.Message) is { Success: true } unmapped)
                return (default, Results.ValidationProblem(Unknown(FieldOf(e.Path, batch), unmapped.Groups[1].Value, FieldsOf(typeof(T), options))));
            return (default, Results.ValidationProblem(new Dictionary<string, string[]>
            {
                [FieldOf(e.Path, batch)] = [Problem(e)],
            }));
        }
    }

    [GeneratedRegex(@"^The JSON property '(.*)' could not be mapped to any \.NET member", RegexOptions.Singleline)]
    private static partial Regex UnmappedMember();

    // The problem of a field the request does not have, under its own name: the exception's Path stops
    // at the object holding it ("$" → body, "$[3]" → [3]); a deeper one (inside a list) is named by its path.
    // A name that is long or holds control characters is not echoed: the object holding it is named instead.
    private static Dictionary<string, string[]> Unknown(string at, string name, IEnumerable<string> fields)
    {
        var problem = $"is not a field of this request (its fields: {string.Join(", ", fields)})";
        if (RequestText.Problem(name) is not null) return new() { [at] = [$"holds a field that is not one of this request's (its fields: {string.Join(", ", fields)})"] };
        var key = at == "body" ? name : at.EndsWith(']') ? $"{at}.{name}" : at;
        return new() { [key] = [problem] };
    }

    // The JSON names of the request's fields (of one element, for a batch).
    private static IEnumerable<string> FieldsOf(Type type, JsonSerializerOptions options)
    {
        var info = options.GetTypeInfo(type);
        if (info.Kind == JsonTypeInfoKind.Enumerable && info.ElementType is { } element) info = options.GetTypeInfo(Nullable.GetUnderlyingType(element) ?? element);
        return info.Kind == JsonTypeInfoKind.Object ? info.Properties.Select(p => p.Name) : [];
    }

    // The serializer names .NET types ("could not be converted to System.Nullable`1[System.Int32]"):
    // say what the field must be in the API's words instead.
    private static string Problem(JsonException e)
    {
        var message = e.Message.Split(" Path:")[0];
        if (message.StartsWith("Duplicate property", StringComparison.Ordinal)) return "appears more than once in the object";
        const string NotConverted = "The JSON value could not be converted to ";
        if (!message.StartsWith(NotConverted, StringComparison.Ordinal))
            // Whatever else the reader says about the JSON itself, short of a .NET type's name.
            return message.Contains("System.", StringComparison.Ordinal) || message.Contains("GpuFleet.", StringComparison.Ordinal)
                ? "is not valid JSON here" : $"is not valid JSON here: {message}";
        var type = message[NotConverted.Length..].TrimEnd('.');
        return type switch
        {
            _ when type.Contains("[System.Int32]", StringComparison.Ordinal) || type.Contains("[System.Int64]", StringComparison.Ordinal)
                || type is "System.Int32" or "System.Int64"
                => "must be a whole number (a JSON number, not a string)",
            _ when type.Contains("[System.Double]", StringComparison.Ordinal) || type == "System.Double"
                => "must be a number (a JSON number, not a string)",
            _ when type.Contains("[System.Boolean]", StringComparison.Ordinal) || type == "System.Boolean" => "must be true or false",
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
