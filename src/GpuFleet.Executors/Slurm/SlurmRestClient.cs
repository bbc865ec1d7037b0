using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// Slurm through slurmrestd, its REST API: the same calls as <see cref="SlurmCommandLineClient"/>, one HTTP
/// request each (a cancel or signal: one per run). The plugin version is chosen once, from the server's own
/// specification (<c>GET /openapi/v3</c>, else <c>/openapi</c>): the highest GpuFleet speaks
/// (<see cref="SlurmRestVersions"/>); its schema is <see cref="ISlurmRestDialect"/>'s business.
/// </summary>
/// <remarks>
/// <para>Authentication: <c>X-SLURM-USER-NAME</c> and <c>X-SLURM-USER-TOKEN</c> on every request. A token
/// file is read again when slurmrestd refuses the token (401; Slurm 22.05 answers 500 "Unspecified error",
/// error -1, for a token slurmctld refuses), and the request is sent again once if the token changed.</para>
/// <para>Errors: no connection, a timeout, a 5xx without Slurm's errors or with errors that say the
/// controller cannot be reached, and a refused credential make the cluster unreachable. A submission that
/// Slurm refuses is rejected, whatever the status: 22.05 answers an invalid node with 500 and error 2018,
/// an unknown key with 400.</para>
/// <para>Polling: <c>GET /jobs</c> once per call for every job. Where the version reports the controller's
/// time of an answer (v0.0.40+), the next call asks with <c>update_time=</c> and reuses the last list when
/// no job changed since.</para>
/// </remarks>
internal sealed class SlurmRestClient : ISlurmClient, IDisposable
{
    private readonly SlurmExecutorOptions _options;
    private readonly SlurmRestOptions _rest;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _negotiating = new(1, 1);
    private readonly Lock _gate = new();
    private Api? _api;
    private string? _token;
    // The last full job list and the controller's time it was taken at (for update_time).
    private (long LastUpdate, IReadOnlyList<SlurmJob> Jobs)? _jobs;

    public SlurmRestClient(SlurmExecutorOptions options, SlurmRestOptions rest, HttpMessageHandler? handler = null)
    {
        if (rest.Token is not null && rest.TokenFile is not null) throw new ArgumentException("give a token or a token file, not both", nameof(rest));
        _options = options;
        _rest = rest;
        _token = rest.Token;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            BaseAddress = rest.Url,
            Timeout = TimeSpan.FromSeconds(Math.Max(1, rest.TimeoutSeconds)),
        };
    }

    /// <summary>The plugin version in use once negotiated (<c>v0.0.38</c>); null before.</summary>
    public string? Version => _api?.Dialect.Version;

    public async Task<IReadOnlyList<string>> FindLiveRunsAsync(string name, CancellationToken cancel)
    {
        // slurmrestd has no filter by name in every version: the one poll, filtered here as squeue -n would.
        var jobs = await JobsAsync(cancel).ConfigureAwait(false);
        return [.. jobs.Where(j => j.Name == name && SlurmExecutor.IsLive(j.State)).Select(j => j.RunId).Distinct(StringComparer.Ordinal)];
    }

    public async Task<string> SubmitAsync(SlurmSubmission submission, CancellationToken cancel)
    {
        var api = await ApiAsync(cancel).ConfigureAwait(false);
        var context = new SlurmRestJobContext(_options.Partition,
            _rest.WorkingDirectory ?? (_options.OutputDirectory is { Length: > 0 } dir ? dir : "/tmp"), SlurmRestDialect.DefaultEnvironment);
        var answer = await SendAsync(HttpMethod.Post, $"/slurm/{api.Dialect.Version}/job/submit", api.Dialect.SubmitBody(submission, context), cancel).ConfigureAwait(false);
        if (answer.Succeeded)
        {
            // Accepted but no id: whether a job exists is unknown, and the next launch looks it up by name.
            return (answer.Body is { } body ? api.Dialect.SubmittedId(body) : null)
                ?? throw new ExecutorUnreachableException($"slurmrestd gave no job id for {submission.Name}: {answer.Describe()}");
        }
        ThrowIfUnreachable(answer, "POST job/submit");
        throw new ExecutorRejectedException($"Slurm refused {submission.Name}: {answer.Describe()}");
    }

    public async Task<IReadOnlyList<SlurmJob>> JobsAsync(CancellationToken cancel)
    {
        var api = await ApiAsync(cancel).ConfigureAwait(false);
        (long LastUpdate, IReadOnlyList<SlurmJob> Jobs)? known;
        lock (_gate) known = _jobs;
        var since = api.Dialect.ReportsLastUpdate && known is { } k ? k.LastUpdate : (long?)null;
        var path = $"/slurm/{api.Dialect.Version}/jobs" + (since is { } t ? "?update_time=" + t.ToString(CultureInfo.InvariantCulture) : "");
        var answer = await SendAsync(HttpMethod.Get, path, null, cancel).ConfigureAwait(false);
        if (answer.Status == (int)HttpStatusCode.NotModified && since is not null) return known!.Value.Jobs;
        var body = Query(answer, "GET jobs");
        var lastUpdate = api.Dialect.LastUpdate(body);
        // Asked from a time, an answer without the controller's time is "nothing changed" (with an empty list).
        if (since is not null && lastUpdate is null) return known!.Value.Jobs;
        var jobs = Read("jobs", () => api.Dialect.Jobs(body, _options.Partition));
        lock (_gate) _jobs = lastUpdate is { } at ? (at, jobs) : null;
        return jobs;
    }

    public async Task<SlurmAccounting> AccountingAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel)
    {
        var api = await ApiAsync(cancel).ConfigureAwait(false);
        if (api.Accounting is not { } db)
            return new SlurmAccounting(false, $"slurmrestd at {_rest.Url} serves no /slurmdb/ version GpuFleet speaks: the cluster keeps no accounting (slurmdbd)", []);
        if (runIds.Count == 0) return new SlurmAccounting(true, null, []);
        // step=<ids>: records of those jobs (sacct -j); skip_steps: the allocations only (sacct -X).
        var path = $"/slurmdb/{db.Version}/jobs?skip_steps=true&step=" + Uri.EscapeDataString(string.Join(',', runIds));
        var answer = await SendAsync(HttpMethod.Get, path, null, cancel).ConfigureAwait(false);
        var message = answer.Describe();
        if (answer.Status == (int)HttpStatusCode.NotFound || NoAccounting.Any(s => message.Contains(s, StringComparison.OrdinalIgnoreCase)))
            return new SlurmAccounting(false, message, []);
        var body = Query(answer, "GET slurmdb jobs");
        var wanted = runIds.ToHashSet(StringComparer.Ordinal);
        return new SlurmAccounting(true, null, [.. Read("slurmdb jobs", () => db.Accounting(body)).Where(j => wanted.Contains(j.RunId))]);
    }

    private static readonly string[] NoAccounting = ["accounting storage is disabled", "not configured with slurmdbd", "slurmdbd is not configured"];

    public async Task<IReadOnlyList<SlurmNode>> NodesAsync(CancellationToken cancel)
    {
        var api = await ApiAsync(cancel).ConfigureAwait(false);
        var answer = await SendAsync(HttpMethod.Get, $"/slurm/{api.Dialect.Version}/nodes", null, cancel).ConfigureAwait(false);
        var body = Query(answer, "GET nodes");
        return Read("nodes", () => api.Dialect.Nodes(body, _options.Partition));
    }

    public Task CancelAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel) => DeleteAsync(runIds, null, cancel);

    public Task SignalAsync(IReadOnlyCollection<string> runIds, string signal, CancellationToken cancel) => DeleteAsync(runIds, signal, cancel);

    public void Dispose()
    {
        _http.Dispose();
        _negotiating.Dispose();
    }

    // One DELETE per run (v0.0.38 has no other way); errors that say the run does not run are no error.
    private async Task DeleteAsync(IReadOnlyCollection<string> runIds, string? signal, CancellationToken cancel)
    {
        if (runIds.Count == 0) return;
        var api = await ApiAsync(cancel).ConfigureAwait(false);
        var problems = new List<string>();
        foreach (var id in runIds)
        {
            var answer = await SendAsync(HttpMethod.Delete, $"/slurm/{api.Dialect.Version}/job/{Uri.EscapeDataString(id)}{api.Dialect.DeleteQuery(signal)}", null, cancel)
                .ConfigureAwait(false);
            var errors = answer.Errors.Concat(answer.Body is { } body ? api.Dialect.DeleteFailures(body) : []).ToList();
            if (answer.Succeeded && errors.Count == 0) continue;
            ThrowIfUnreachable(answer, "DELETE job");
            var refused = errors.Where(e => !SlurmOutput.IsNotRunning(e.Message) && e.Number is not (2017 or 2020 or 2021)).ToList();
            if (errors.Count == 0 && !answer.Succeeded) problems.Add($"{id}: {answer.Describe()}");
            problems.AddRange(refused.Select(e => $"{id}: {e.Message}"));
        }
        if (problems.Count > 0)
            throw new ExecutorRejectedException($"slurmrestd {(signal is null ? "cancel" : "signal " + signal)}: {string.Join("; ", problems)}");
    }

    // An answer to a query: anything but success leaves the executor unable to see the cluster.
    private JsonElement Query(SlurmRestAnswer answer, string what)
    {
        if (!answer.Succeeded)
        {
            ForgetVersionOn404(answer);
            throw new ExecutorUnreachableException($"slurmrestd {what}: {answer.Describe()}");
        }
        return answer.Body ?? throw new ExecutorUnreachableException($"slurmrestd {what} answered no JSON: {answer.Describe()}");
    }

    // A refused credential, a version gone (slurmrestd upgraded), or a server or controller that cannot
    // answer: nothing asked is known to have happened.
    private void ThrowIfUnreachable(SlurmRestAnswer answer, string what)
    {
        ForgetVersionOn404(answer);
        var errors = answer.Errors;
        if (answer.Status is 401 or 403 or 404 || (answer.Status >= 500 && (errors.Count == 0 || errors.Any(IsUnreachable))))
            throw new ExecutorUnreachableException($"slurmrestd {what}: {answer.Describe()}");
    }

    private void ForgetVersionOn404(SlurmRestAnswer answer)
    {
        if (answer.Status == (int)HttpStatusCode.NotFound) _api = null;
    }

    /// <summary>
    /// Whether an error says slurmctld could not be reached or refused slurmrestd's credential: Slurm's
    /// communication errors (1000–1099, 1800–1899, 5000–5099), the tools' messages for them, and 22.05's
    /// -1 "Unspecified error" (what it answers both for a controller that is down and a token it refuses).
    /// </summary>
    internal static bool IsUnreachable(SlurmRestError e) =>
        e.Number is -1 or (>= 1000 and < 1100) or (>= 1800 and < 1900) or (>= 5000 and < 5100) || SlurmOutput.IsUnreachable(e.Message);

    private static T Read<T>(string what, Func<T> parse)
    {
        try { return parse(); }
        catch (FormatException e) { throw new ExecutorUnreachableException($"slurmrestd answered {what} that GpuFleet cannot read: {e.Message}", e); }
    }

    private async Task<Api> ApiAsync(CancellationToken cancel)
    {
        if (_api is { } api) return api;
        await _negotiating.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (_api is { } again) return again;
            var answer = await SendAsync(HttpMethod.Get, "/openapi/v3", null, cancel).ConfigureAwait(false);
            if (answer.Status == (int)HttpStatusCode.NotFound) answer = await SendAsync(HttpMethod.Get, "/openapi", null, cancel).ConfigureAwait(false);
            if (!answer.Succeeded || answer.Body is not { } spec)
                throw new ExecutorUnreachableException($"slurmrestd at {_rest.Url} gave no OpenAPI specification: {answer.Describe()}");
            var (slurm, slurmdb) = SlurmRestVersions.Offered(spec);
            var chosen = SlurmRestVersions.Choose(slurm)
                ?? throw new ExecutorUnreachableException($"slurmrestd at {_rest.Url} offers {(slurm.Count == 0 ? "no /slurm/ version" : string.Join(", ", slurm.Select(v => $"v0.0.{v}")))}; " +
                    $"GpuFleet speaks v0.0.{SlurmRestVersions.Oldest} to v0.0.{SlurmRestVersions.Newest}");
            // Accounting in its own highest version (usually the same; a server may load them apart).
            var accounting = SlurmRestVersions.Choose(slurmdb) is { } db ? SlurmRestVersions.Dialect(db) : null;
            return (_api = new Api(SlurmRestVersions.Dialect(chosen), accounting));
        }
        finally
        {
            _negotiating.Release();
        }
    }

    private async Task<SlurmRestAnswer> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancel)
    {
        var token = await TokenAsync(reread: false, cancel).ConfigureAwait(false);
        var answer = await SendOnceAsync(method, path, body, token, cancel).ConfigureAwait(false);
        if (_rest.TokenFile is null || !RefusedCredential(answer)) return answer;
        // A rotated token: read the file again and, if it changed, ask again once.
        var fresh = await TokenAsync(reread: true, cancel).ConfigureAwait(false);
        return fresh == token ? answer : await SendOnceAsync(method, path, body, fresh, cancel).ConfigureAwait(false);
    }

    private static bool RefusedCredential(SlurmRestAnswer answer) =>
        answer.Status is 401 or 403 || (answer.Status >= 500 && answer.Errors is { Count: > 0 } errors && errors.All(e => e.Number == -1));

    private async Task<SlurmRestAnswer> SendOnceAsync(HttpMethod method, string path, JsonObject? body, string? token, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, path);
        if (_rest.User is { Length: > 0 } user) request.Headers.Add("X-SLURM-USER-NAME", user);
        if (token is { Length: > 0 }) request.Headers.Add("X-SLURM-USER-TOKEN", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            // Exactly this: 22.05 answers "application/json; charset=utf-8" with 400 "Unable to parse query".
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        try
        {
            using var response = await _http.SendAsync(request, cancel).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
            JsonElement? json = null;
            if (text.TrimStart().StartsWith('{'))
            {
                try { json = JsonSerializer.Deserialize<JsonElement>(text); }
                catch (JsonException) { json = null; }
            }
            return new SlurmRestAnswer((int)response.StatusCode, json, text);
        }
        catch (HttpRequestException e)
        {
            throw new ExecutorUnreachableException($"slurmrestd at {_rest.Url}: {method} {path}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            throw new ExecutorUnreachableException(
                string.Create(CultureInfo.InvariantCulture, $"slurmrestd at {_rest.Url} did not answer {method} {path} within {_rest.TimeoutSeconds} s"), e);
        }
    }

    private async Task<string?> TokenAsync(bool reread, CancellationToken cancel)
    {
        if (_rest.TokenFile is not { } file) return _token;
        lock (_gate)
            if (_token is not null && !reread) return _token;
        string text;
        try
        {
            text = await File.ReadAllTextAsync(file, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExecutorUnreachableException($"cannot read the slurmrestd token file {file}: {e.Message}", e);
        }
        // scontrol token prints SLURM_JWT=<token>; a file may hold that line as it is.
        var token = text.Trim();
        if (token.StartsWith("SLURM_JWT=", StringComparison.Ordinal)) token = token["SLURM_JWT=".Length..];
        lock (_gate) _token = token;
        return token;
    }

    /// <summary>The version in use for the controller, and for accounting where the server offers it.</summary>
    private sealed record Api(ISlurmRestDialect Dialect, ISlurmRestDialect? Accounting);
}
