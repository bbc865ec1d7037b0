using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static GpuFleet.Executors.Slurm.SlurmRestJson;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// slurmrestd's <c>openapi/v0.0.38</c> (Slurm 22.05, Debian 12), checked against a real one.
/// </summary>
/// <remarks>
/// <para>A job is written as sbatch's options by their long names (its parser maps each key to the option):
/// <c>nodelist</c> and <c>no_requeue</c> are accepted though the published schema does not list them;
/// <c>requeue: false</c> would turn requeueing ON (any value sets the option); <c>nodes</c> is the
/// schema's <c>[min, max]</c>; the environment is an object and is required. CPU cores and memory per GPU are
/// <c>cpus_per_gpu</c> (a string, as the schema has it) and <c>memory_per_gpu</c> (MB); per node <c>cpus_per_task</c> and <c>memory_per_node</c> (MB).</para>
/// <para>Answers: plain numbers, <c>job_state</c> a string, <c>exit_code</c> the raw wait status (as squeue's),
/// a node's base <c>state</c> and its <c>state_flags</c> apart. <c>GET /jobs?update_time=</c> answers 304 when
/// nothing changed, but no answer says the controller's time to ask from, so it is not used.</para>
/// <para><c>DELETE /job/{id}</c> signals with <c>KILL_FULL_JOB</c> (the batch script and every step, as
/// <c>scancel --full</c>); without <c>signal</c> it sends SIGKILL: the job is cancelled.</para>
/// </remarks>
internal sealed class SlurmRestDialect038() : SlurmRestDialect(38)
{
    public override JsonObject SubmitBody(SlurmSubmission s, SlurmRestJobContext context)
    {
        var components = s.Components.Select(c =>
        {
            var job = new JsonObject
            {
                ["name"] = s.Name,
                ["comment"] = s.Comment,
                ["time_limit"] = s.TimeLimitMinutes,
                ["nodelist"] = Core.Fleets.HostList.Compress(c.Nodes),
                ["nodes"] = new JsonArray(c.Nodes.Count, c.Nodes.Count),
                ["standard_output"] = s.Output,
                ["no_requeue"] = true,
                ["current_working_directory"] = context.WorkingDirectory,
                ["environment"] = new JsonObject([.. context.Environment.Select(e => new KeyValuePair<string, JsonNode?>(e.Key, e.Value))]),
            };
            if (c.GresText("") is { } gres) job["gres"] = gres;
            if (c.CpusPerGpu is { } cpusPerGpu) job["cpus_per_gpu"] = cpusPerGpu.ToString(CultureInfo.InvariantCulture);
            if (c.MemoryMbPerGpu is { } memPerGpu) job["memory_per_gpu"] = memPerGpu;
            if (c.CpusPerNode is { } cpusPerNode) job["cpus_per_task"] = cpusPerNode;
            if (c.MemoryMbPerNode is { } memPerNode) job["memory_per_node"] = memPerNode;
            if (s.Output != "/dev/null") job["open_mode"] = "append";
            if (context.Partition is { Length: > 0 } p) job["partition"] = p;
            if (s.Account is { } a) job["account"] = a;
            if (s.IsHeterogeneous) job["nice"] = SlurmSubmission.HeterogeneousNice;
            return job;
        }).ToList();
        var body = new JsonObject { ["script"] = Script(s) };
        if (components.Count == 1) body["job"] = components[0];
        else body["jobs"] = new JsonArray([.. components]);
        return body;
    }

    public override string DeleteQuery(string? signal) => signal is null ? "" : "?signal=" + SignalName(signal);

    protected override string JobState(JsonElement job) => (Text(job, "job_state") ?? "UNKNOWN").ToUpperInvariant();

    protected override (int ExitCode, int Signal) ExitOf(JsonElement job) => WaitStatus(Number(job, "exit_code"));

    protected override string NodeState(JsonElement node) =>
        SlurmRestJson.NodeState([Text(node, "state") ?? "unknown", .. Strings(node, "state_flags")]);

    protected override string AccountingState(JsonElement state) => (Text(state, "current") ?? "UNKNOWN").Split(' ', 2)[0].ToUpperInvariant();

    protected override (int ExitCode, int Signal) AccountingExit(JsonElement exitCode, string state) => LegacyAccountingExit(exitCode, state);
}
