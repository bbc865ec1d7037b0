using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// Talks to a GpuFleet server for the client commands. A refused call becomes a one-line error with
/// the problem document's fields (<c>error: 400 gpus: must be at least 1</c>), never a stack trace.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _server;

    public ApiClient(string server, string? token)
    {
        _server = server.TrimEnd('/');
        if (!Uri.TryCreate(_server, UriKind.Absolute, out var uri)) throw new CliUsageException($"--server: '{server}' is not a URL");
        _http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrWhiteSpace(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public JsonElement Get(string path) => Send(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>A GET whose answer is text (CSV exports).</summary>
    public string GetText(string path) => SendText(new HttpRequestMessage(HttpMethod.Get, path));

    public JsonElement Post(string path, object body) => Send(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) });

    public JsonElement Delete(string path) => Send(new HttpRequestMessage(HttpMethod.Delete, path));

    private JsonElement Send(HttpRequestMessage request)
    {
        var text = SendText(request);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private string SendText(HttpRequestMessage request)
    {
        using var response = Respond(request);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (response.IsSuccessStatusCode) return text;
        throw new CliUsageException($"{(int)response.StatusCode} {Problem(text)}");
    }

    /// <summary>A GET whose answer is bytes to pass on as they are (a job's log); null for a 404 when <paramref name="missingIsNull"/>.</summary>
    public byte[]? GetBytes(string path, bool missingIsNull = false)
    {
        using var response = Respond(new HttpRequestMessage(HttpMethod.Get, path));
        if (response.IsSuccessStatusCode) return response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        if (missingIsNull && response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        throw new CliUsageException($"{(int)response.StatusCode} {Problem(response.Content.ReadAsStringAsync().GetAwaiter().GetResult())}");
    }

    private HttpResponseMessage Respond(HttpRequestMessage request)
    {
        try
        {
            return _http.Send(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliUsageException($"cannot reach {_server}: {e.Message} (is `gpufleet serve` running? set --server or GPUFLEET_SERVER)");
        }
    }

    private static string Problem(string text)
    {
        try
        {
            var p = JsonDocument.Parse(text).RootElement;
            if (p.TryGetProperty("errors", out var errors))
                return string.Join("; ", errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join(", ", e.Value.EnumerateArray().Select(x => x.GetString()))}"));
            return p.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : p.TryGetProperty("title", out var t) ? t.GetString() ?? "" : text;
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    public void Dispose() => _http.Dispose();
}
