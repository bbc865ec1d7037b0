using System.CommandLine;
using System.Text.Json;
using GpuFleet.Core.Workloads;
using GpuFleet.Core.Fleets;
using GpuFleet.Server.Jobs;
using Spectre.Console;
using YamlDotNet.Serialization;

namespace GpuFleet.Cli.Commands;

/// <summary>
/// The client commands — <c>submit</c>, <c>jobs</c>, <c>show</c>, <c>why</c>, <c>cancel</c>, <c>logs</c>, <c>queues</c>, <c>sites</c> —
/// against a server given by <c>--server</c>/<c>GPUFLEET_SERVER</c> with <c>--token</c>/<c>GPUFLEET_TOKEN</c>.
/// Tables on a terminal, <c>--json</c> for scripts.
/// </summary>
internal static partial class ClientCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Submit();
        yield return Jobs();
        yield return Show("show", "Show a job: state, placement, history, pending reason and estimated start.");
        yield return Show("why", "Why a pending job waits, and when it should start.");
        yield return Cancel();
        yield return Logs();
        yield return Queues();
        yield return Sites();
        yield return Usage();
        yield return Service();
    }

    private static Command Usage()
    {
        var from = new Option<string?>("--from") { Description = "Start of the period (ISO 8601; default 30 days before --to)." };
        var to = new Option<string?>("--to") { Description = "End of the period (ISO 8601; default now)." };
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant (admins)." };
        var csv = new Option<bool>("--csv") { Description = "Print CSV." };
        return Client("usage", "GPU-hours, energy and cost per tenant, GPU model and site for a period.", [from, to, tenant, csv], (r, api) =>
        {
            var query = "/api/v1/usage?"
                + (r.GetValue(from) is { } f ? $"from={Uri.EscapeDataString(f)}&" : "")
                + (r.GetValue(to) is { } t ? $"to={Uri.EscapeDataString(t)}&" : "")
                + (r.GetValue(tenant) is { } te ? $"tenant={Uri.EscapeDataString(te)}&" : "");
            if (!r.GetValue(csv)) return api.Get(query);
            Console.Write(api.GetText(query + "format=csv"));
            return null;
        }, (_, report) =>
        {
            var table = new Table().AddColumns("tenant", "owner", "model", "site", "GPU-h", "kWh", "cost");
            foreach (var row in report.GetProperty("rows").EnumerateArray())
                table.AddRow(new[] { Text(row, "tenant"), Text(row, "owner"), Text(row, "model"), Text(row, "site"),
                    row.GetProperty("gpuHours").GetDouble().ToString("N1", System.Globalization.CultureInfo.InvariantCulture),
                    row.GetProperty("energyKwh").GetDouble().ToString("N1", System.Globalization.CultureInfo.InvariantCulture),
                    row.GetProperty("cost").GetDouble().ToString("N2", System.Globalization.CultureInfo.InvariantCulture) }.Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
        });
    }

    // Every client command: --server, --token and --json; the call answers the server's JSON (null when
    // it printed its own answer), which is printed as it is with --json, else rendered for a terminal.
    private static Command Client(string name, string description, Symbol[] symbols, Func<ParseResult, ApiClient, JsonElement?> call, Action<ParseResult, JsonElement> render)
    {
        var server = ServerOption();
        var token = TokenOption();
        var json = JsonOption();
        var command = new Command(name, description) { server, token, json };
        foreach (var symbol in symbols)
        {
            if (symbol is Option option) command.Options.Add(option);
            else command.Arguments.Add((Argument)symbol);
        }
        command.SetAction(r => CliRunner.Guard(() =>
        {
            using var api = new ApiClient(FromEnvironment(r.GetValue(server), "GPUFLEET_SERVER", "http://127.0.0.1:5080"),
                r.GetValue(token) ?? Environment.GetEnvironmentVariable("GPUFLEET_TOKEN"));
            if (call(r, api) is not { } answer) return 0;
            if (r.GetValue(json)) Print(answer);
            else render(r, answer);
            return 0;
        }));
        return command;
    }

    // Options that fall back to the environment read it when the command runs, never as the option's
    // default value: --help prints default values, and a token (or a URL with a password in it) must not
    // show up in a terminal, a screenshot or a CI log because someone asked for help.
    private static Option<string?> ServerOption() => new("--server") { Description = "Server URL (default: GPUFLEET_SERVER, else http://127.0.0.1:5080)." };

    private static Option<string?> TokenOption() => new("--token") { Description = "Bearer token (default: GPUFLEET_TOKEN)." };

    private static string FromEnvironment(string? given, string variable, string fallback) =>
        given ?? (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : fallback);

    private static Option<bool> JsonOption() => new("--json") { Description = "Print the server's JSON." };

    private static Command Submit()
    {
        var gpus = new Option<int?>("--gpus") { Description = "GPUs of the gang." };
        var model = new Option<string[]>("--model") { Description = "Acceptable GPU model (repeat for several).", AllowMultipleArgumentsPerToken = false };
        var time = new Option<string?>("--time") { Description = "Time limit: 90, 30m, 4h, 2d." };
        var tenant = new Option<string?>("--tenant") { Description = "Tenant (default: the token's)." };
        var name = new Option<string?>("--name") { Description = "Job name." };
        var priority = new Option<int?>("--priority") { Description = "Priority within the tenant." };
        var cls = new Option<string?>("--class") { Description = "Priority class." };
        var topology = new Option<string?>("--topology") { Description = "Widest span allowed: site (default), node, domain or anywhere." };
        var site = new Option<string?>("--site") { Description = "Site the job must run at." };
        var dataSite = new Option<string?>("--data-site") { Description = "Site where the job's input data lives." };
        var dataGb = new Option<double?>("--data-gb") { Description = "Size of that data in GB." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "How often the job checkpoints: 30m, 1h (0: it does not)." };
        var cpusPerGpu = new Option<double?>("--cpus-per-gpu") { Description = "CPU cores for each GPU (or slice), on its node." };
        var memoryPerGpu = new Option<double?>("--memory-gb-per-gpu") { Description = "Memory in GB for each GPU (or slice), on its node." };
        var slice = new Option<string?>("--slice") { Description = "Part of a GPU per member of the gang: mig:1g.23gb, or 0.25:20 (fraction : memory GB)." };
        var file = new Option<string?>("--file") { Description = "YAML job file with the API's fields (flags override it)." };
        var cmd = new Argument<string[]>("cmd") { Description = "Command to run (after --).", Arity = ArgumentArity.ZeroOrMore };
        return Client("submit", "Submit a job: gpufleet submit --gpus 8 --model B200 --time 4h -- python train.py",
            [gpus, model, time, tenant, name, priority, cls, topology, site, dataSite, dataGb, checkpoint, cpusPerGpu, memoryPerGpu, slice, file, cmd], (r, api) =>
        {
            var body = r.GetValue(file) is { } path ? JobFile(path) : [];
            if (r.GetValue(gpus) is { } g) body["gpus"] = g;
            if (r.GetValue(model) is { Length: > 0 } m) body["models"] = m;
            if (r.GetValue(time) is { } t) body["timeLimitSeconds"] = DurationText.Seconds(t, "--time");
            if (r.GetValue(tenant) is { } te) body["tenant"] = te;
            if (r.GetValue(name) is { } n) body["name"] = n;
            if (r.GetValue(priority) is { } p) body["priority"] = p;
            if (r.GetValue(cls) is { } c) body["priorityClass"] = c;
            if (r.GetValue(topology) is { } to) body["topology"] = to;
            if (r.GetValue(site) is { } si) body["site"] = si;
            if (r.GetValue(dataSite) is { } ds) body["dataSite"] = ds;
            if (r.GetValue(dataGb) is { } gb) body["dataGb"] = gb;
            if (r.GetValue(checkpoint) is { } cp) body["checkpointSeconds"] = DurationText.Seconds(cp, "--checkpoint", min: 0);
            if (r.GetValue(cpusPerGpu) is { } cpg)
            {
                body.Remove("cpus");
                body["cpusPerGpu"] = cpg;
            }
            if (r.GetValue(memoryPerGpu) is { } mpg)
            {
                body.Remove("memoryGb");
                body["memoryGbPerGpu"] = mpg;
            }
            if (r.GetValue(slice) is { } sl) body["slice"] = SliceField(sl, "--slice");
            if (r.GetValue(cmd) is { Length: > 0 } words) body["command"] = string.Join(' ', words);
            return api.Post("/api/v1/jobs", body);
        }, (_, job) => Console.WriteLine($"job {job.GetProperty("id").GetInt64()} {job.GetProperty("state").GetString()}"));
    }

    // The job file's keys are the API's fields, no others: a misspelt key would otherwise be sent and
    // refused by the server, or, worse, by an older one dropped.
    private static readonly string[] JobFileKeys =
        [.. JsonSerializerOptions.Web.GetTypeInfo(typeof(GpuFleet.Server.Api.SubmitJobRequest)).Properties.Select(p => p.Name)];

    // A YAML job file as the API's JSON body: numbers as numbers, times as durations (4h), lists as they are.
    private static Dictionary<string, object?> JobFile(string path)
    {
        if (!File.Exists(path)) throw new CliUsageException($"--file: {path}: not found");
        Dictionary<string, object?> yaml;
        try
        {
            yaml = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(path)) ?? [];
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new CliUsageException($"--file: {path}: not a YAML map of job fields ({e.Message})");
        }
        var body = new Dictionary<string, object?>();
        foreach (var (key, value) in yaml)
        {
            if (!JobFileKeys.Contains(key, StringComparer.Ordinal))
                throw new CliUsageException($"--file: {path}: unknown key '{key}' (a job file has: {string.Join(", ", JobFileKeys)})");
            body[key] = value is not string text ? value : key switch
            {
                "gpus" or "priority" or "runtimeSeconds" when long.TryParse(text, out var whole) => whole,
                "timeLimitSeconds" => long.TryParse(text, out var limit) ? limit : DurationText.Seconds(text, "timeLimitSeconds"),
                // A bare fraction goes to the server as a number, which refuses it as the trace reader does.
                "checkpointSeconds" => long.TryParse(text, out var every) ? every
                    : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var fraction) ? fraction
                    : DurationText.Seconds(text, "checkpointSeconds", min: 0),
                "dataGb" or "cpusPerGpu" or "memoryGbPerGpu" or "cpus" or "memoryGb"
                    when double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var amount) => amount,
                // A slice as a trace cell spells it (mig:1g.23gb, 0.25:20) is sent as the API's object.
                "slice" => SliceField(text, $"--file: {path}: slice"),
                _ => text,
            };
            if (key == "slice" && value is Dictionary<object, object> map) body[key] = SliceMap(map, path);
        }
        return body;
    }

    // The keys of the API's slice object.
    private static readonly string[] SliceKeys =
        [.. JsonSerializerOptions.Web.GetTypeInfo(typeof(GpuFleet.Server.Api.JobSlice)).Properties.Select(p => p.Name)];

    // A job file's slice: map, numbers as numbers (gpuFraction: 0.25), the profile as text.
    private static Dictionary<string, object?> SliceMap(Dictionary<object, object> map, string path)
    {
        var slice = new Dictionary<string, object?>();
        foreach (var (k, v) in map)
        {
            var key = k as string ?? "";
            if (!SliceKeys.Contains(key, StringComparer.Ordinal))
                throw new CliUsageException($"--file: {path}: slice: unknown key '{key}' (a slice has: {string.Join(", ", SliceKeys)})");
            slice[key] = key != "migProfile" && v is string number
                && double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : v;
        }
        return slice;
    }

    // A slice written as a trace cell, as the API's object; the cell's rules are the trace reader's.
    private static Dictionary<string, object?> SliceField(string text, string where)
    {
        var slice = JobFieldRules.ParseSlice(text, out var problem);
        if (problem is not null) throw new CliUsageException($"{where}: {problem}");
        if (slice is null) throw new CliUsageException($"{where}: must not be empty (leave it out for whole GPUs)");
        return slice.MigProfile is { } profile
            ? new() { ["migProfile"] = profile }
            : new() { ["gpuFraction"] = slice.GpuFraction, ["gpuMemoryGb"] = slice.GpuMemoryGb };
    }

    private static Command Jobs()
    {
        var state = new Option<string?>("--state") { Description = "Only jobs in this state." };
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's jobs (admins)." };
        var limit = new Option<int>("--limit") { Description = "At most this many.", DefaultValueFactory = _ => 50 };
        return Client("jobs", "List jobs.", [state, tenant, limit], (r, api) => api.Get($"/api/v1/jobs?limit={r.GetValue(limit)}"
            + (r.GetValue(state) is { } s ? $"&state={Uri.EscapeDataString(s)}" : "")
            + (r.GetValue(tenant) is { } t ? $"&tenant={Uri.EscapeDataString(t)}" : "")), (_, page) =>
        {
            var table = new Table().AddColumns("id", "name", "tenant", "GPUs", "state", "placement");
            foreach (var j in page.GetProperty("items").EnumerateArray())
                table.AddRow(new[] { j.GetProperty("id").ToString(), Text(j, "name"), Text(j, "tenant"), GpusText(j, wholeUnit: ""), Text(j, "state"), Text(j, "placement") }
                    .Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
        });
    }

    private static Command Show(string verb, string description)
    {
        var id = new Argument<long>("id") { Description = "Job id." };
        return Client(verb, description, [id], (r, api) => api.Get($"/api/v1/jobs/{r.GetValue(id)}"), (r, job) =>
        {
            var state = Text(job, "state");
            if (verb == "why")
            {
                Console.WriteLine(state == "pending"
                    ? $"{Text(job, "pendingMessage")}{(job.TryGetProperty("estimatedStart", out var e) && e.ValueKind == JsonValueKind.String ? $" (estimated start {e.GetString()})" : "")}"
                    : $"job {r.GetValue(id)} is {state}{(Text(job, "detail") is { Length: > 0 } d ? $": {d}" : "")}");
                return;
            }
            Console.WriteLine($"job {job.GetProperty("id")} {Text(job, "name")} · tenant {Text(job, "tenant")} · {GpusText(job, wholeUnit: " GPUs")} · {state}");
            if (PerGpuText(job) is { Length: > 0 } perGpu) Console.WriteLine($"  per {(SliceOf(job) is null ? "GPU" : "slice")}: {perGpu}");
            if (Text(job, "placement") is { Length: > 0 } p) Console.WriteLine($"  placement: {p}");
            foreach (var slice in SlicesOf(job)) Console.WriteLine($"  slice: {slice}");
            if (Text(job, "pendingMessage") is { Length: > 0 } why) Console.WriteLine($"  waiting: {why}");
            foreach (var h in job.GetProperty("history").EnumerateArray())
                Console.WriteLine($"  {Text(h, "at")}  {Text(h, "state"),-10} {Text(h, "detail")}");
        });
    }

    private static Command Cancel()
    {
        var id = new Argument<long>("id") { Description = "Job id." };
        return Client("cancel", "Cancel a pending or running job.", [id], (r, api) => api.Delete($"/api/v1/jobs/{r.GetValue(id)}"),
            (r, job) => Console.WriteLine($"job {r.GetValue(id)} {Text(job, "state")}"));
    }

    private static Command Logs()
    {
        var id = new Argument<long>("id") { Description = "Job id." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing what the job writes, every second, until it has ended." };
        return Client("logs", "Print a job's output (its log), as it is written.", [id, follow], (r, api) =>
        {
            var job = r.GetValue(id);
            using var stdout = Console.OpenStandardOutput();
            var offset = 0L;
            while (true)
            {
                // The state is read before the log: a job over before a read has written all it will by then.
                // (A state this client does not know, from a newer server, is taken as not over.)
                var over = !r.GetValue(follow)
                    || Enum.TryParse<JobState>(Text(api.Get($"/api/v1/jobs/{job}"), "state"), ignoreCase: true, out var state) && JobTransitions.IsFinal(state);
                // A job followed before it has written anything has no log yet.
                var written = api.GetBytes($"/api/v1/jobs/{job}/log?offset={offset}", missingIsNull: !over) ?? [];
                // The bytes as they are: a character cut in two by the offset is whole again once the next part follows.
                stdout.Write(written);
                stdout.Flush();
                offset += written.Length;
                if (over) return null;
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }
        }, (_, _) => { });
    }

    private static Command Queues() =>
        Client("queues", "Tenants with guarantee, use, borrowed, lent and idle guaranteed GPUs.", [], (_, api) => api.Get("/api/v1/queues"), (_, queues) =>
        {
            var table = new Table().AddColumns("tenant", "owner", "guarantee", "used", "borrowed", "lent", "idle guarantee");
            foreach (var q in queues.EnumerateArray())
                table.AddRow(new[] { Text(q, "tenant"), Text(q, "owner"), q.GetProperty("guaranteeGpus").ToString(), q.GetProperty("usedGpus").ToString(),
                    q.GetProperty("borrowedGpus").ToString(), q.GetProperty("lentGpus").ToString(), q.GetProperty("idleGuaranteeGpus").ToString() }.Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
        });

    // Each site as an operator checks it: GPUs busy and out of service, power against the cap, its executor and whether
    // its cluster answers, runs the cluster has not started (how many, the longest wait and why) and nodes set aside
    // after a run was not started in time.
    private static Command Sites() =>
        Client("sites", "Sites: GPUs busy and out of service, power against the cap, whether the cluster answers, runs it has not started, nodes set aside.", [],
            (_, api) => api.Get("/api/v1/sites"), (_, sites) =>
        {
            // Site names and figures whole; the cluster's words wrap where a terminal is narrow.
            var table = new Table().AddColumns(new TableColumn("site").NoWrap(), new TableColumn("GPUs").NoWrap(), new TableColumn("busy").NoWrap(),
                new TableColumn("out").NoWrap(), new TableColumn("MW / cap").NoWrap(), new TableColumn("cluster"), new TableColumn("not started"), new TableColumn("set aside"));
            foreach (var s in sites.EnumerateArray())
            {
                var executor = Text(s, "executor") + s.GetProperty("reachable").ValueKind switch
                {
                    JsonValueKind.True => ", answers",
                    JsonValueKind.False => ", NOT answering" + (Text(s, "executorError") is { Length: > 0 } e ? $": {e}" : ""),
                    _ => "",
                };
                var waiting = "";
                if (s.TryGetProperty("waitingInCluster", out var w) && w.ValueKind == JsonValueKind.Object)
                {
                    var waited = DateTimeOffset.UtcNow - w.GetProperty("oldestSince").GetDateTimeOffset();
                    var job = Text(w, "oldestJob") is { Length: > 0 } id ? $"job {id}, " : "";
                    var reason = Text(w, "oldestReason") is { Length: > 0 } r ? $", {r}" : "";
                    waiting = FormattableString.Invariant($"{w.GetProperty("runs").GetInt32()} (longest: {job}{Math.Max(0, waited.TotalSeconds):0} s{reason})");
                }
                var aside = s.TryGetProperty("setAsideNodes", out var a) && a.ValueKind == JsonValueKind.Array
                    ? HostList.Compress([.. a.EnumerateArray().Select(n => n.GetString()!)]) : "";
                table.AddRow(new[] { Text(s, "site"), s.GetProperty("gpus").ToString(), s.GetProperty("busyGpus").ToString(),
                    s.GetProperty("outOfServiceGpus").ToString(),
                    FormattableString.Invariant($"{s.GetProperty("powerMw").GetDouble():0.0} / {s.GetProperty("powerCapMw").GetDouble():0.0}"),
                    executor, waiting, aside }.Select(Markup.Escape).ToArray());
            }
            AnsiConsole.Write(table);
        });

    /// <summary>
    /// A job's GPUs as a listing shows them: <c>8</c> (with <paramref name="wholeUnit"/>, <c>8 GPUs</c>), or with a
    /// slice, how many of which: <c>2 × mig:1g.23gb</c>, <c>3 × 0.25 GPU, 20 GB</c>.
    /// </summary>
    internal static string GpusText(JsonElement job, string wholeUnit)
    {
        var gpus = job.GetProperty("gpus").ToString();
        return SliceOf(job) is { } slice ? $"{gpus} × {JobFieldRules.SliceText(slice)}" : gpus + wholeUnit;
    }

    // CPU cores and memory asked per GPU or slice, as "4 CPUs, 64 GB memory"; empty when neither was asked.
    private static string PerGpuText(JsonElement job)
    {
        var parts = new List<string>();
        if (Amount(job, "cpusPerGpu") is > 0 and var cpus) parts.Add(FormattableString.Invariant($"{cpus} CPUs"));
        if (Amount(job, "memoryGbPerGpu") is > 0 and var gb) parts.Add(FormattableString.Invariant($"{gb} GB memory"));
        return string.Join(", ", parts);
    }

    // The job view's placed slices, each as "sejong-b200-0007 GPU 3: 1g.23gb@2" (or "… GPU 3: 0.25 of its time, 20 GB"); none for whole GPUs.
    private static IEnumerable<string> SlicesOf(JsonElement job)
    {
        if (!job.TryGetProperty("slices", out var slices) || slices.ValueKind != JsonValueKind.Array) yield break;
        foreach (var s in slices.EnumerateArray())
        {
            var where = $"{Text(s, "node")} GPU {Text(s, "gpu")}";
            yield return Text(s, "migProfile") is { Length: > 0 } profile
                ? $"{where}: {profile}@{Text(s, "migStart")}"
                : FormattableString.Invariant($"{where}: {Amount(s, "fraction")} of its time, {Amount(s, "memoryGb")} GB");
        }
    }

    private static double Amount(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;

    // The job view's slice object (an older server shows none: whole GPUs).
    private static SliceRequest? SliceOf(JsonElement job)
    {
        if (!job.TryGetProperty("slice", out var s) || s.ValueKind != JsonValueKind.Object) return null;
        if (s.TryGetProperty("migProfile", out var p) && p.ValueKind == JsonValueKind.String) return new SliceRequest(p.GetString(), 0, 0);
        return new SliceRequest(null, Amount(s, "gpuFraction"), Amount(s, "gpuMemoryGb"));
    }

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? v.ToString() : "";

    private static void Print(JsonElement e) => Console.WriteLine(JsonSerializer.Serialize(e, SimulateCommand.Json));
}
