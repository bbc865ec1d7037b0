using System.Globalization;
using System.Text.Json;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// Reads a service's request rate from a Prometheus instant query (<c>/api/v1/query?query=…</c>): the first
/// sample of its answer, <c>{"status":"success","data":{"resultType":"vector","result":[{"value":[t,"42.5"]}]}}</c>
/// (or a scalar, <c>"result":[t,"42.5"]</c>). Any failure — no answer within the timeout, an error status, an
/// answer that is not such JSON, no sample, a value that is not a finite number of 0 or more — is a message, never a rate.
/// </summary>
public static class RateScraper
{
    /// <summary>Longest answer read.</summary>
    public const int MaxAnswerBytes = 1 << 20;

    /// <summary>The rate, or why there is none.</summary>
    public static async Task<(double? Rate, string? Error)> ScrapeAsync(HttpClient http, string url, TimeSpan timeout, CancellationToken cancel = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            if (!response.IsSuccessStatusCode) return (null, $"the query answered {(int)response.StatusCode} {response.ReasonPhrase}");
            await using var body = await response.Content.ReadAsStreamAsync(limit.Token);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, limit.Token)) > 0)
            {
                if (buffer.Length + read > MaxAnswerBytes) return (null, $"the query's answer is over {MaxAnswerBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            return Parse(buffer.ToArray());
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return (null, $"the query did not answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException e)
        {
            return (null, $"the query could not be reached: {e.Message}");
        }
    }

    /// <summary>The first sample of a Prometheus instant query's answer, or why there is none.</summary>
    public static (double? Rate, string? Error) Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
                return (null, "the answer is not a Prometheus query answer (no status)");
            if (status.GetString() != "success")
                return (null, $"the query failed: {(root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String ? error.GetString() : status.GetString())}");
            if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("resultType", out var type) || !data.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Array)
                return (null, "the answer has no data.result");
            JsonElement sample;
            switch (type.GetString())
            {
                case "vector":
                    if (result.GetArrayLength() == 0) return (null, "the query returned no sample");
                    if (result[0].ValueKind != JsonValueKind.Object || !result[0].TryGetProperty("value", out sample)) return (null, "the first sample has no value");
                    break;
                case "scalar":
                    sample = result;
                    break;
                default:
                    return (null, $"the query returned a {type} (an instant vector or a scalar is needed)");
            }
            if (sample.ValueKind != JsonValueKind.Array || sample.GetArrayLength() != 2 || sample[1].ValueKind != JsonValueKind.String)
                return (null, "the first sample is not [time, \"value\"]");
            var text = sample[1].GetString()!;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || !double.IsFinite(rate) || rate < 0)
                return (null, $"the first sample's value '{(text.Length > 40 ? text[..40] : text)}' is not a finite number of 0 or more");
            return (rate, null);
        }
        catch (JsonException)
        {
            return (null, "the answer is not JSON");
        }
    }
}
