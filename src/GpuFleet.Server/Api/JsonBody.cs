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
            {
                var at = FieldOf(e.Path, batch);
                return (default, Results.ValidationProblem(Unknown(at, unmapped.Groups[1].Value, FieldsOf(typeof(T), options, Holder(at)))));
            }
            return (default, Results.ValidationProblem(new Dictionary<string, string[]>
            {
                [FieldOf(e.Path, batch)] = [Problem(e, typeof(T), options, batch)],
            }));
        }
    }

    [GeneratedRegex(@"^The JSON property '(.*)' could not be mapped to any \.NET member", RegexOptions.Singleline)]
    private static partial Regex UnmappedMember();

    // The problem of a field the request does not have, under its name as the path gives it ("$.x" → x,
    // "$[3].x" → [3].x). A name that is long or holds control characters is not echoed: the object
    // holding it is named instead (body, or [3] in a batch).
    private static Dictionary<string, string[]> Unknown(string at, string name, IEnumerable<string> fields)
    {
        var known = string.Join(", ", fields);
        if (RequestText.Problem(name) is null) return new() { [at] = [$"is not a field of this request (its fields: {known})"] };
        var holder = at.StartsWith('[') ? at[..(at.IndexOf(']') + 1)] : "body";
        return new() { [holder] = [$"holds a field that is not one of this request's (its fields: {known})"] };
    }

    // The JSON names of the fields of the object at a path of field names (empty: the request's own; of one
    // element, for a batch): "slice" gives the fields of a job's slice.
    private static IEnumerable<string> FieldsOf(Type type, JsonSerializerOptions options, IReadOnlyList<string> path)
    {
        var info = ObjectOf(type, options);
        foreach (var name in path)
            info = info is null || PropertyOf(info, name) is not { } p ? null : ObjectOf(p.PropertyType, options);
        return info is null ? [] : info.Properties.Select(p => p.Name);
    }

    // The names of the objects holding a field, outermost first: "slice.x" → [slice]; "[3].slice.x" → [slice]; "x" → [].
    private static string[] Holder(string field)
    {
        var names = (field.StartsWith('[') ? field[(field.IndexOf(']') + 1)..].TrimStart('.') : field).Split('.');
        return names[..^1];
    }

    private static JsonPropertyInfo? PropertyOf(JsonTypeInfo info, string name) =>
        info.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    // The request object's type information: T's, or its elements' for a batch.
    private static JsonTypeInfo? ObjectOf(Type type, JsonSerializerOptions options)
    {
        var info = options.GetTypeInfo(type);
        if (info.Kind == JsonTypeInfoKind.Enumerable && info.ElementType is { } element) info = options.GetTypeInfo(Nullable.GetUnderlyingType(element) ?? element);
        return info.Kind == JsonTypeInfoKind.Object ? info : null;
    }

    // What the field must be, in the API's words, from the type the request declares for it — not from
    // the serializer's message, which names .NET types, and for a record built through its constructor
    // names the record rather than the field.
    private static string Problem(JsonException e, Type body, JsonSerializerOptions options, bool batch)
    {
        var message = e.Message.Split(" Path:")[0];
        if (message.StartsWith("Duplicate property", StringComparison.Ordinal)) return "appears more than once in the object";
        if (!message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
            // Whatever else the reader says about the JSON itself, short of a .NET type's name.
            return message.Contains("System.", StringComparison.Ordinal) || message.Contains("GpuFleet.", StringComparison.Ordinal)
                ? "is not valid JSON here" : $"is not valid JSON here: {message}";
        var field = FieldOf(e.Path, batch);
        var name = field == "body" || field.EndsWith(']') ? null : field.StartsWith('[') ? field[(field.IndexOf(']') + 2)..] : field;
        if (name is null)
            // The body, or a batch's element: the request's own shape.
            return field == "body" && options.GetTypeInfo(body).Kind == JsonTypeInfoKind.Enumerable ? "must be a JSON array" : "must be a JSON object";
        // A field of an object within the request ("slice.gpuFraction") has the type its object declares.
        Type? type = null;
        var holder = ObjectOf(body, options);
        foreach (var part in name.Split('.'))
        {
            type = holder is null ? null : PropertyOf(holder, part)?.PropertyType;
            type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
            holder = type is null ? null : ObjectOf(type, options);
        }
        return type switch
        {
            null => "is not valid JSON here",
            _ when type == typeof(int) || type == typeof(long) => "must be a whole number (a JSON number, not a string)",
            _ when type == typeof(double) => "must be a number (a JSON number, not a string)",
            _ when type == typeof(bool) => "must be true or false",
            _ when type == typeof(string) => "must be a string",
            _ when typeof(IEnumerable<string>).IsAssignableFrom(type) => "must be a list of strings",
            _ when options.GetTypeInfo(type).Kind == JsonTypeInfoKind.Enumerable => "must be a JSON array",
            _ => "must be a JSON object",
        };
    }

    /// <summary>
    /// The field a JSON path points into, as the API names fields: <c>$.gpus</c> and <c>$.models[3]</c> →
    /// <c>gpus</c>, <c>models</c>; a field of an object in the request <c>$.slice.gpuFraction</c> → <c>slice.gpuFraction</c>;
    /// in a batch <c>$[2].gpus</c> → <c>[2].gpus</c>; the whole body → <c>body</c>.
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
        var name = rest[1..].Split('[')[0];
        return element.Length > 0 ? $"{element}.{name}" : name;
    }
}
