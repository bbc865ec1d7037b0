using System.Net;
using System.Text;
using GpuFleet.Executors.Slurm;

namespace GpuFleet.Executors.Tests.Slurm;

/// <summary>
/// slurmrestd as an <see cref="HttpMessageHandler"/>: answers each request with a response recorded from a
/// real slurmrestd or built from a version's published schema (<c>Recorded/slurmrestd/v0.0.N/*.http</c>:
/// status line, headers, body), and remembers the requests.
/// </summary>
internal sealed class FakeSlurmRest(Func<FakeSlurmRest.Request, HttpResponseMessage> answer) : HttpMessageHandler
{
    /// <summary>One request as slurmrestd received it.</summary>
    public sealed record Request(string Method, string Path, string Query, string? Body, string? User, string? Token, string? ContentType);

    public List<Request> Requests { get; } = [];

    public IEnumerable<Request> To(string method, string pathEnd) => Requests.Where(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var r = new Request(request.Method.Method, request.RequestUri!.AbsolutePath, request.RequestUri.Query, body,
            Header(request, "X-SLURM-USER-NAME"), Header(request, "X-SLURM-USER-TOKEN"), request.Content?.Headers.ContentType?.ToString());
        lock (Requests) Requests.Add(r);
        return answer(r);
    }

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    /// <summary>The directory of version <paramref name="version"/>'s answers.</summary>
    public static string Directory(string version) =>
        Path.Combine(TestFiles.Root, "tests", "GpuFleet.Executors.Tests", "Recorded", "slurmrestd", version);

    /// <summary>A recorded answer of <paramref name="version"/> (e.g. <c>v0.0.38</c>, <c>jobs.http</c>).</summary>
    public static HttpResponseMessage Recorded(string version, string file) => Parse(File.ReadAllText(Path.Combine(Directory(version), file)));

    /// <summary>The body of a recorded answer.</summary>
    public static string RecordedBody(string version, string file)
    {
        var text = File.ReadAllText(Path.Combine(Directory(version), file)).Replace("\r\n", "\n", StringComparison.Ordinal);
        var blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        return blank < 0 ? "" : text[(blank + 2)..];
    }

    /// <summary>A JSON answer with <paramref name="status"/>.</summary>
    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>An HTTP response as curl -i printed it.</summary>
    public static HttpResponseMessage Parse(string raw)
    {
        var text = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        var blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        var head = (blank < 0 ? text : text[..blank]).Split('\n');
        var body = blank < 0 ? "" : text[(blank + 2)..];
        var status = (HttpStatusCode)int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var type = head.Skip(1).Select(h => h.Split(':', 2)).Where(h => h.Length == 2 && h[0].Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            .Select(h => h[1].Trim()).FirstOrDefault();
        var response = new HttpResponseMessage(status);
        if (type is not null || body.Length > 0) response.Content = new StringContent(body, Encoding.UTF8, type ?? "text/plain");
        return response;
    }

    /// <summary>
    /// A cluster of version <paramref name="version"/> as recorded: its specification, jobs, nodes and
    /// accounting, an accepted submission and cancel; <paramref name="overrides"/> first.
    /// </summary>
    public static FakeSlurmRest Cluster(string version, Func<Request, HttpResponseMessage?>? overrides = null) => new(r =>
    {
        if (overrides?.Invoke(r) is { } special) return special;
        return (r.Method, r.Path) switch
        {
            ("GET", "/openapi/v3") => Recorded(version, "openapi-v3.http"),
            ("GET", var p) when p.EndsWith("/jobs", StringComparison.Ordinal) && p.StartsWith("/slurmdb/", StringComparison.Ordinal) =>
                // v0.0.38's real answer is a 404 (no slurmdbd here): the records are built from its schema.
                File.Exists(Path.Combine(Directory(version), "slurmdb-jobs-from-schema.http")) ? Recorded(version, "slurmdb-jobs-from-schema.http") : Recorded(version, "slurmdb-jobs.http"),
            ("GET", var p) when p.EndsWith("/jobs", StringComparison.Ordinal) => Recorded(version, "jobs.http"),
            ("GET", var p) when p.EndsWith("/nodes", StringComparison.Ordinal) => Recorded(version, "nodes.http"),
            ("POST", var p) when p.EndsWith("/job/submit", StringComparison.Ordinal) => Recorded(version, "submit.http"),
            ("DELETE", _) => Recorded(version, "delete.http"),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("Unable find requested URL.") },
        };
    });

    /// <summary>A client of <paramref name="fake"/>, as the executor makes one.</summary>
    public static SlurmRestClient Client(FakeSlurmRest fake, SlurmExecutorOptions? options = null, SlurmRestOptions? rest = null) =>
        new(options ?? new SlurmExecutorOptions(), rest ?? new SlurmRestOptions(new Uri("http://slurmrestd.test:6820"), "root", Token: "token"), fake);
}
