using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static GpuFleet.Executors.Slurm.SlurmRestJson;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// What all slurmrestd versions share: the shape of their answers (<c>jobs</c>, <c>nodes</c>, <c>job_id</c>)
/// and the fields GpuFleet reads by the same names in each (<c>job_id</c>, <c>het_job_id</c>, <c>name</c>,
/// <c>nodes</c>, <c>tres_per_node</c>, <c>gres</c>...). Each family says how it writes a job, its states,
/// exit codes and signals (<see cref="ISlurmRestDialect"/>).
/// </summary>
internal abstract class SlurmRestDialect(int minor) : ISlurmRestDialect
{
    /// <summary>The environment given to a batch script when none is configured: slurmrestd refuses a job without one.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> DefaultEnvironment =
        [new("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")];

    /// <summary>The plugin version's minor number (38 for v0.0.38).</summary>
    public int Minor { get; } = minor;

    public string Version => "v0.0." + Minor.ToString(CultureInfo.InvariantCulture);

    public virtual bool ReportsLastUpdate => false;

    public abstract JsonObject SubmitBody(SlurmSubmission submission, SlurmRestJobContext context);

    public virtual string? SubmittedId(JsonElement body) => Number(body, "job_id")?.ToString(CultureInfo.InvariantCulture);

    public IReadOnlyList<SlurmJob> Jobs(JsonElement body, string? partition) =>
        [.. Items(body, "jobs").Where(j => partition is null || Text(j, "partition") == partition).Select(Job)];

    public virtual long? LastUpdate(JsonElement body) => null;

    public IReadOnlyList<SlurmNode> Nodes(JsonElement body, string? partition) =>
        [.. Items(body, "nodes")
            .Where(n => partition is null || Strings(n, "partitions").Contains(partition))
            .Select(n =>
            {
                var name = Text(n, "name") ?? throw new FormatException($"a node without a name: {Excerpt(n)}");
                var gpus = SlurmOutput.Gpus(Text(n, "gres") ?? "", out var model);
                // cpus and real_memory (MB) are plain numbers from v0.0.38 to v0.0.44.
                return new SlurmNode(name, gpus, model, SlurmOutput.Gpus(Text(n, "gres_used") ?? "", out _), NodeState(n),
                    (int)Math.Clamp(Number(n, "cpus") ?? 0, 0, int.MaxValue), Math.Max(0, Number(n, "real_memory") ?? 0));
            })];

    public IReadOnlyList<SlurmJob> Accounting(JsonElement body) => [.. Items(body, "jobs").Select(AccountingJob)];

    public abstract string DeleteQuery(string? signal);

    public virtual IReadOnlyList<SlurmRestError> DeleteFailures(JsonElement body) => [];

    /// <summary>A job's state as squeue prints it.</summary>
    protected abstract string JobState(JsonElement job);

    /// <summary>The batch script's exit code and the signal that ended it (0 when none).</summary>
    protected abstract (int ExitCode, int Signal) ExitOf(JsonElement job);

    /// <summary>A node's state as sinfo's <c>StateComplete</c> prints it.</summary>
    protected abstract string NodeState(JsonElement node);

    /// <summary>An accounting record's state, upper case.</summary>
    protected abstract string AccountingState(JsonElement state);

    /// <summary>An accounting record's exit code and signal.</summary>
    protected abstract (int ExitCode, int Signal) AccountingExit(JsonElement exitCode, string state);

    private SlurmJob Job(JsonElement j)
    {
        var id = Required(j, "job_id").ToString(CultureInfo.InvariantCulture);
        // het_job_id is 0 (or unset) for an ordinary job, the leader's id for each component of a heterogeneous one.
        var leader = Number(j, "het_job_id") is { } l && l > 0 ? l.ToString(CultureInfo.InvariantCulture) : null;
        var component = leader is null ? 0 : (int)(Number(j, "het_job_offset") ?? 0);
        var (exitCode, signal) = ExitOf(j);
        return new SlurmJob(id, leader ?? id, component, Text(j, "name") ?? "", JobState(j), Text(j, "state_reason") ?? "None",
            exitCode, signal, Time(j, "start_time"), Time(j, "end_time"), SlurmRestJson.Nodes(Text(j, "nodes")),
            SlurmOutput.GpusPerNode(Text(j, "tres_per_node") ?? ""));
    }

    private SlurmJob AccountingJob(JsonElement j)
    {
        var id = Required(j, "job_id").ToString(CultureInfo.InvariantCulture);
        var het = Get(j, "het");
        var leader = het is { } h && Number(h, "job_id") is { } l && l > 0 ? l.ToString(CultureInfo.InvariantCulture) : null;
        var component = leader is null ? 0 : (int)(Number(het!.Value, "job_offset") ?? 0);
        var state = Get(j, "state") is { } s ? AccountingState(s) : "UNKNOWN";
        var (exitCode, signal) = Get(j, "exit_code") is { } e ? AccountingExit(e, state) : (0, 0);
        var time = Get(j, "time");
        return new SlurmJob(id, leader ?? id, component, Text(j, "name") ?? "", state, "None", exitCode, signal,
            time is { } t ? Time(t, "start") : null, time is { } u ? Time(u, "end") : null, SlurmRestJson.Nodes(Text(j, "nodes")), 0);
    }

    /// <summary>The raw wait status (v0.0.38, v0.0.39: as squeue's <c>exit_code</c>) as exit code and signal.</summary>
    protected static (int ExitCode, int Signal) WaitStatus(long? status) =>
        status is { } s ? ((int)((s >> 8) & 0xff), (int)(s & 0x7f)) : (0, 0);

    /// <summary>
    /// v0.0.38's and v0.0.39's accounting exit code <c>{status, return_code, signal: {signal_id}}</c>. Both write
    /// <c>SUCCESS</c> and 0 for every exit, whatever its code (Slurm 22.05 dbv0.0.38 and 23.02 data_parser
    /// v0.0.39, <c>_dump_job_exit_code</c>): a FAILED job that was not signalled is given 1, as its true code is
    /// not known.
    /// </summary>
    protected static (int ExitCode, int Signal) LegacyAccountingExit(JsonElement e, string state)
    {
        var signal = Get(e, "signal") is { } sig ? (int)(Number(sig, "signal_id") ?? 0) : 0;
        var code = (int)Math.Max(0, Number(e, "return_code") ?? 0);
        if (signal == 0 && code == 0 && state == "FAILED") code = 1;
        return (signal != 0 ? 0 : code, signal);
    }

    /// <summary>v0.0.40+'s exit code <c>{status: [...], return_code: {set, number}, signal: {id: {set, number}, name}}</c>.</summary>
    protected static (int ExitCode, int Signal) VerboseExit(JsonElement e)
    {
        var signal = Get(e, "signal") is { } sig ? (int)(Number(sig, "id") ?? 0) : 0;
        return ((int)Math.Max(0, Number(e, "return_code") ?? 0), signal);
    }

    /// <summary>Job fields that v0.0.39 and later write the same way (Slurm's job descriptor).</summary>
    protected static JsonObject Descriptor(SlurmSubmission s, SlurmComponent c, SlurmRestJobContext context, string gresPrefix)
    {
        var job = new JsonObject
        {
            ["name"] = s.Name,
            ["comment"] = s.Comment,
            ["time_limit"] = NoVal(s.TimeLimitMinutes),
            ["required_nodes"] = new JsonArray([.. c.Nodes.Select(n => (JsonNode)n)]),
            ["minimum_nodes"] = c.Nodes.Count,
            ["maximum_nodes"] = c.Nodes.Count,
            ["standard_output"] = s.Output,
            // Slurm would otherwise requeue a batch job whose node fails: GpuFleet decides where it runs again.
            ["requeue"] = false,
            ["current_working_directory"] = context.WorkingDirectory,
            ["environment"] = new JsonArray([.. context.Environment.Select(e => (JsonNode)$"{e.Key}={e.Value}")]),
        };
        if (c.GresText(gresPrefix) is { } gres) job["tres_per_node"] = gres;
        // CPU cores per GPU as cpus_per_tres ("gres/gpu:4"); for shards, which are not GPUs, the node's one task's.
        if (c.CpusPerGpu is { } cpusPerGpu) job["cpus_per_tres"] = gresPrefix + "gpu:" + cpusPerGpu.ToString(CultureInfo.InvariantCulture);
        if (c.CpusPerNode is { } cpusPerNode) job["cpus_per_task"] = cpusPerNode;
        // Memory as the node's total (MB): the job descriptor has no memory per GPU, and each node gets exactly the GPUs placed.
        if ((c.MemoryMbPerGpu * c.GpusPerNode ?? c.MemoryMbPerNode) is { } memPerNode) job["memory_per_node"] = NoVal(memPerNode);
        if (s.Output != "/dev/null") job["open_mode"] = new JsonArray("APPEND");
        if (context.Partition is { Length: > 0 } p) job["partition"] = p;
        if (s.Account is { } a) job["account"] = a;
        if (s.IsHeterogeneous) job["nice"] = SlurmSubmission.HeterogeneousNice;
        return job;
    }

    /// <summary>A number as v0.0.39+ writes one: <c>{"set": true, "infinite": false, "number": n}</c>.</summary>
    protected static JsonObject NoVal(long n) => new() { ["set"] = true, ["infinite"] = false, ["number"] = n };

    /// <summary>The submission body of v0.0.39+: the script once, a <c>job</c>, or <c>jobs</c> for a heterogeneous one.</summary>
    protected static JsonObject Body(SlurmSubmission s, IReadOnlyList<JsonObject> components)
    {
        var body = new JsonObject { ["script"] = Script(s) };
        if (components.Count == 1) body["job"] = components[0];
        else body["jobs"] = new JsonArray([.. components]);
        return body;
    }

    /// <summary>The batch script: sbatch's <c>--wrap</c> writes the same <c>#!/bin/sh</c> line.</summary>
    protected static string Script(SlurmSubmission s) => "#!/bin/sh\n" + s.Script + "\n";

    /// <summary>The <c>?signal=</c> query value: the signal's name without <c>SIG</c>.</summary>
    protected static string SignalName(string signal) =>
        Uri.EscapeDataString(signal.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? signal[3..] : signal);
}
