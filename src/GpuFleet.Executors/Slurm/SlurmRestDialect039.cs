using System.Text.Json;
using System.Text.Json.Nodes;
using static GpuFleet.Executors.Slurm.SlurmRestJson;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// slurmrestd's <c>openapi/v0.0.39</c> (Slurm 23.02), from its published schema (<c>doc/html/rest_api.shtml</c>
/// and <c>src/plugins/data_parser/v0.0.39/parsers.c</c> of Slurm 23.02).
/// </summary>
/// <remarks>
/// <para>The first version written by the data_parser plugin: a job is Slurm's job descriptor
/// (<c>required_nodes</c>, <c>minimum_nodes</c>, <c>tres_per_node: "gres:gpu:N"</c>, an environment list,
/// <c>time_limit</c> as <c>{set, infinite, number}</c>); numbers in answers are <c>{set, infinite, number}</c>
/// objects, but <c>job_state</c> is still a string and <c>exit_code</c> the raw wait status.</para>
/// <para><c>GET /jobs?update_time=</c> is not used: 23.02 dumps a missing job list when nothing changed.
/// <c>DELETE /job/{id}</c> signals with <c>KILL_FULL_JOB</c>, as v0.0.38 does.</para>
/// </remarks>
internal sealed class SlurmRestDialect039() : SlurmRestDialect(39)
{
    public override JsonObject SubmitBody(SlurmSubmission s, SlurmRestJobContext context) =>
        Body(s, [.. s.Components.Select(c => Descriptor(s, c, context, "gres:"))]);

    public override string DeleteQuery(string? signal) => signal is null ? "" : "?signal=" + SignalName(signal);

    protected override string JobState(JsonElement job) => (Text(job, "job_state") ?? "UNKNOWN").ToUpperInvariant();

    protected override (int ExitCode, int Signal) ExitOf(JsonElement job) => WaitStatus(Number(job, "exit_code"));

    protected override string NodeState(JsonElement node) => SlurmRestJson.NodeState(Strings(node, "state"));

    protected override string AccountingState(JsonElement state) => (Text(state, "current") ?? "UNKNOWN").ToUpperInvariant();

    protected override (int ExitCode, int Signal) AccountingExit(JsonElement exitCode, string state) => LegacyAccountingExit(exitCode, state);
}
