using System.Globalization;
using System.IO.Compression;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data;
using GpuFleet.Data.Traces;
using GpuFleet.Data.Workloads;
using GpuFleet.Server.Api;

namespace GpuFleet.Server.Twin;

/// <summary>
/// Checks a twin run's inputs before the run is queued, so that every mistake is a 400 naming its field
/// at once rather than a failed run later: the fleet, tree and sample must be ones the server lists, the
/// policies known (and given a tree where they need one), an uploaded file within its size and job bounds
/// and readable by the trace readers (their own message, naming the user's file), a generated workload's
/// days, load and seed in range and not too many jobs.
/// <para>An upload is unpacked (gzip) into a plain CSV file of the server's, counting lines as it goes, so
/// that a small file that unpacks to millions of rows is refused before anything parses it; the run reads
/// that file again when its turn comes, and it is deleted when the run ends.</para>
/// </summary>
public sealed class TwinValidator(GpuFleet.Server.Hosting.ServerSettings server, TwinCatalog catalog) : IDisposable
{
    private readonly TwinSettings settings = server.Twin;

    /// <summary>The form field that carries an uploaded trace.</summary>
    public const string UploadField = "traceFile";

    /// <summary>How many times its own size an uploaded file may unpack to.</summary>
    public const int MaxUnpackRatio = 8;

    private readonly Lazy<DirectoryInfo> _uploads = new(() => Directory.CreateTempSubdirectory("gpufleet-twin-"));

    /// <summary>Checks <paramref name="request"/> (and <paramref name="upload"/>, with source <c>upload</c>).</summary>
    public async Task<TwinValidation> ValidateAsync(TwinRunRequest request, TwinUpload? upload, CancellationToken cancel)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string field, string problem) => errors.TryAdd(field, [problem]);

        // The fleet and the tenant tree, read and checked against each other.
        string? fleetName = null;
        Fleet? fleet = null;
        var fleetText = Blank(request.Fleet);
        if (fleetText is null) Add("fleet", catalog.Fleets.Count == 0 ? NoFiles("fleets", "*.yaml") : $"is required (one of: {Known(catalog.Fleets.Keys)})");
        else if (!catalog.Fleets.ContainsKey(fleetText)) Add("fleet", $"unknown fleet {Quoted(fleetText)} (known: {Known(catalog.Fleets.Keys)})");
        else
        {
            try
            {
                fleet = catalog.Fleet(fleetText);
                fleetName = fleetText;
            }
            catch (DataFileException e)
            {
                Add("fleet", $"cannot be read: {e.Message}");
            }
        }
        string? treeName = null;
        var tree = TenantTree.Empty;
        if (Blank(request.Tenants) is { } treeText)
        {
            if (!catalog.TenantTrees.ContainsKey(treeText)) Add("tenants", $"unknown tenant tree {Quoted(treeText)} (known: {Known(catalog.TenantTrees.Keys)}; or none)");
            else if (fleetName is not null)
            {
                try
                {
                    tree = catalog.Tree(treeText, fleetName);
                    treeName = treeText;
                }
                catch (DataFileException e)
                {
                    Add("tenants", $"does not fit fleet '{fleetName}': {e.Message}");
                }
            }
        }

        // The policies, in the order given, each once.
        var policies = new List<SchedulingPolicy>();
        var names = (request.Policies ?? []).SelectMany(p => (p ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var allPolicies = string.Join(", ", SchedulingPolicy.All.Select(p => p.Name));
        if (names.Count == 0) Add("policies", $"choose at least one policy ({allPolicies})");
        foreach (var name in names)
        {
            if (SchedulingPolicy.Find(name) is not { } policy) Add("policies", $"unknown policy {Quoted(name)} (known: {allPolicies})");
            else if (!policies.Contains(policy)) policies.Add(policy);
        }
        if (policies.FirstOrDefault(p => p.Quotas != QuotaMode.None) is { } needing && treeName is null && !errors.ContainsKey("tenants"))
            Add("policies", $"'{needing.Name}' needs a tenant tree: choose one under tenants");

        // The trace.
        var sourceText = Blank(request.Source)?.ToLowerInvariant() ?? "sample";
        TwinTraceSource? source = sourceText switch
        {
            "sample" => TwinTraceSource.Sample,
            "upload" => TwinTraceSource.Upload,
            "generate" => TwinTraceSource.Generate,
            _ => null,
        };
        if (source is null) Add("source", "must be sample, upload or generate");
        TwinTrace? trace = null;
        int? jobs = null;
        switch (source)
        {
            case TwinTraceSource.Sample:
                if (Blank(request.Trace) is not { } sample)
                    Add("trace", catalog.Traces.Count == 0 ? NoFiles("traces", "*.csv or *.csv.gz") : $"is required with source sample (one of: {Known(catalog.Traces.Keys)})");
                else if (!catalog.Traces.TryGetValue(sample, out var path)) Add("trace", $"unknown sample trace {Quoted(sample)} (known: {Known(catalog.Traces.Keys)})");
                else trace = new TwinTrace(TwinTraceSource.Sample, sample, path);
                break;
            case TwinTraceSource.Generate:
                trace = Generated(request, fleetName, fleet, Add);
                break;
            case TwinTraceSource.Upload:
                if (upload is null || upload.Length == 0) Add(UploadField, "choose a trace file to upload (Philly, Kalos or native CSV, plain or .gz)");
                else if (upload.Length > settings.MaxUploadBytes) Add(UploadField, $"is {Megabytes(upload.Length)}; a trace file may be at most {Megabytes(settings.MaxUploadBytes)}");
                // Only a request good in every other way costs the server the file's reading.
                else if (errors.Count == 0)
                {
                    var (stored, count, problem) = await StoreAsync(upload, cancel);
                    if (problem is not null) Add(UploadField, problem);
                    else
                    {
                        trace = stored;
                        jobs = count;
                    }
                }
                break;
        }
        if (errors.Count > 0 || trace is null || fleet is null)
        {
            if (trace is { Source: TwinTraceSource.Upload }) Discard(trace);
            return new TwinValidation(null, errors);
        }
        return new TwinValidation(new TwinRequest(fleetName!, fleet, treeName, tree, policies, trace)
        {
            Jobs = jobs, Scheduling = server.Scheduling, SampleIntervalSeconds = settings.SampleIntervalSeconds,
        }, errors);
    }

    /// <summary>Deletes an uploaded trace's file (the run has ended, or was never queued).</summary>
    public static void Discard(TwinTrace trace)
    {
        if (trace.Source != TwinTraceSource.Upload || trace.Path is null) return;
        try
        {
            File.Delete(trace.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory goes with the server; nothing else reads the file.
        }
    }

    /// <summary>Deletes the uploads' directory.</summary>
    public void Dispose()
    {
        if (!_uploads.IsValueCreated) return;
        try
        {
            _uploads.Value.Delete(recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file still open: the system's temporary directory is cleaned in time.
        }
    }

    private TwinTrace? Generated(TwinRunRequest request, string? fleetName, Fleet? fleet, Action<string, string> add)
    {
        var days = request.Days;
        var load = request.Load;
        var seed = request.Seed ?? 1;
        var good = true;
        if (days is not { } d || !(d > 0) || d > settings.MaxGeneratedDays)
        {
            add("days", $"must be a number of days above 0 and at most {settings.MaxGeneratedDays.ToString(CultureInfo.InvariantCulture)}, with source generate");
            good = false;
        }
        if (load is not { } l || !(l > 0) || l > settings.MaxGeneratedLoad)
        {
            add("load", $"must be a number above 0 and at most {settings.MaxGeneratedLoad.ToString(CultureInfo.InvariantCulture)} (0.9: GPU-time asked for is 90% of the fleet's), with source generate");
            good = false;
        }
        if (!good || fleet is null) return null;
        var expected = WorkloadGenerator.ExpectedJobs(WorkloadModel.Default, fleet, days!.Value, load!.Value);
        if (expected > settings.MaxJobs)
        {
            add("load", string.Create(CultureInfo.InvariantCulture,
                $"{days:0.###} days at load {load:0.###} on fleet '{fleetName}' make about {expected:N0} jobs; a twin run takes at most {settings.MaxJobs:N0}: choose fewer days or a lower load"));
            return null;
        }
        return new TwinTrace(TwinTraceSource.Generate, TwinTrace.GeneratedName(fleetName!, days.Value, load.Value, seed), null, days.Value, load.Value, seed);
    }

    // Copies the upload into a plain CSV file of the server's (unpacking gzip, bounded in lines and bytes) and reads it
    // once with the trace readers: the stored trace and its jobs, or what is wrong with the file.
    private async Task<(TwinTrace? Trace, int Jobs, string? Problem)> StoreAsync(TwinUpload upload, CancellationToken cancel)
    {
        var name = Path.GetFileName(upload.FileName);
        if (name.Length == 0 || RequestText.Problem(name) is not null) name = "upload.csv";
        var directory = _uploads.Value.FullName;
        var raw = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".upload");
        var plain = Path.Combine(directory, Guid.NewGuid().ToString("N") + ".csv");
        var trace = new TwinTrace(TwinTraceSource.Upload, name, plain);
        try
        {
            await using (var input = upload.Open())
            await using (var output = File.Create(raw))
                await input.CopyToAsync(output, cancel);
            if (new FileInfo(raw).Length > settings.MaxUploadBytes)
                return (null, 0, $"is larger than {Megabytes(settings.MaxUploadBytes)}, the most a trace file may be");
            if (await UnpackAsync(raw, plain, cancel) is { } tooBig)
            {
                Discard(trace);
                return (null, 0, tooBig);
            }
            IReadOnlyList<GpuFleet.Core.Workloads.TraceJob> jobs;
            try
            {
                jobs = TraceFile.Load(plain);
            }
            catch (DataFileException e)
            {
                Discard(trace);
                return (null, 0, TwinCatalog.Renamed(e, name).Message);
            }
            if (jobs.Count == 0)
            {
                Discard(trace);
                return (null, 0, $"{name} holds no jobs");
            }
            if (jobs.Count > settings.MaxJobs)
            {
                Discard(trace);
                return (null, 0, $"{name} holds {jobs.Count:N0} jobs; a twin run takes at most {settings.MaxJobs:N0}");
            }
            if (SpanProblem(jobs, name) is { } tooLong)
            {
                Discard(trace);
                return (null, 0, tooLong);
            }
            return (trace, jobs.Count, null);
        }
        catch (InvalidDataException e)
        {
            Discard(trace);
            return (null, 0, $"{name} looks like gzip but cannot be unpacked ({e.Message})");
        }
        finally
        {
            File.Delete(raw);
        }
    }

    // A simulation's work and its charts grow with the simulated time, not only with the jobs: an upload's
    // jobs must lie within MaxUploadedSpan of each other, and none may ask for or run longer than that.
    private string? SpanProblem(IReadOnlyList<GpuFleet.Core.Workloads.TraceJob> jobs, string name)
    {
        var most = (long)settings.MaxUploadedSpan.TotalSeconds;
        var days = settings.MaxUploadedSpan.TotalDays.ToString("0", CultureInfo.InvariantCulture);
        long first = long.MaxValue, last = long.MinValue;
        foreach (var job in jobs)
        {
            first = Math.Min(first, job.Spec.SubmitTime);
            last = Math.Max(last, job.Spec.SubmitTime);
            if (job.Spec.TimeLimitSeconds > most || job.RuntimeSeconds > most)
                return $"{name}: job {job.Spec.Id} asks for or runs more than {days} days; a twin run's jobs may run at most that long";
            if (job.CancelAtSeconds is { } cancelAt && (cancelAt < job.Spec.SubmitTime || cancelAt - job.Spec.SubmitTime > most))
                return $"{name}: job {job.Spec.Id} is cancelled more than {days} days after its submission (or before it)";
        }
        return last - first > most
            ? $"{name}: its jobs are submitted over more than {days} days; a twin run covers at most that: cut the trace into shorter stretches"
            : null;
    }

    // The upload as plain text (unpacked if it is gzip), refused past MaxJobs rows or MaxUnpackRatio times its size; null when written.
    private async Task<string?> UnpackAsync(string raw, string plain, CancellationToken cancel)
    {
        var header = new byte[2];
        await using var file = File.OpenRead(raw);
        var gzip = await file.ReadAtLeastAsync(header, 2, throwOnEndOfStream: false, cancel) == 2 && header[0] == 0x1f && header[1] == 0x8b;
        file.Position = 0;
        await using Stream input = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        await using var output = File.Create(plain);
        var maxBytes = settings.MaxUploadBytes * MaxUnpackRatio;
        var buffer = new byte[81_920];
        long bytes = 0, lines = 0;
        byte previous = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancel)) > 0)
        {
            bytes += read;
            // Rows end as the CSV reader ends them: at \n, \r\n or a bare \r.
            foreach (var b in buffer.AsSpan(0, read))
            {
                if (b == (byte)'\r' || (b == (byte)'\n' && previous != (byte)'\r')) lines++;
                previous = b;
            }
            // The header's line and one per job; a last line without its newline is not counted, which only errs by one.
            if (lines > settings.MaxJobs + 1L) return $"has more than {settings.MaxJobs:N0} jobs; a twin run takes at most {settings.MaxJobs:N0}";
            if (bytes > maxBytes) return $"unpacks to more than {Megabytes(maxBytes)}; a trace may unpack to at most {MaxUnpackRatio} times the upload limit";
            await output.WriteAsync(buffer.AsMemory(0, read), cancel);
        }
        return null;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    // A name the user gave, quoted, unless it is too long or holds control characters to be shown back.
    private static string Quoted(string text) => RequestText.Problem(text, 100) is null ? $"'{text}'" : "(a name too long or with control characters)";

    private static string Known(IEnumerable<string> names) => names.Any() ? string.Join(", ", names) : "none";

    private static string NoFiles(string folder, string pattern) =>
        $"this server has no {folder} to choose from (start it with --twin-dir DIR, DIR holding {folder}/{pattern})";

    /// <summary><c>20 MB</c>, <c>1.5 MB</c>, <c>16 KB</c> (binary units, as the limit is set).</summary>
    public static string Megabytes(long bytes) => bytes < 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB");
}
