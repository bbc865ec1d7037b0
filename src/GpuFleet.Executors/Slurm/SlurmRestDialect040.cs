using System.Text.Json;
using System.Text.Json.Nodes;
using static GpuFleet.Executors.Slurm.SlurmRestJson;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// slurmrestd's <c>openapi/v0.0.40</c> and <c>v0.0.41</c> (Slurm 23.11, 24.05), from their published schemas
/// (as slurmrestd 24.05 and 25.05 generate them).
/// </summary>
/// <remarks>
/// <para>Answers: <c>job_state</c> and a node's <c>state</c> are lists of flags (<c>["RUNNING"]</c>,
/// <c>["IDLE", "DRAIN"]</c>); <c>exit_code</c> is <c>{status: ["ERROR"], return_code: {set, number}, signal:
/// {id: {set, number}, name}}</c>; times are <c>{set, infinite, number}</c>; <c>tres_per_node</c> reads
/// <c>gres/gpu:N</c>. v0.0.41 only renames the number objects' schemas (<c>*_no_val_struct</c>) and reshapes
/// <c>job_resources</c>, which GpuFleet does not read.</para>
/// <para><c>GET /jobs</c> answers with <c>last_update</c>, the controller's time: asked again with
/// <c>update_time=</c> that time, it answers an empty list (and a warning) when no job changed.</para>
/// <para><c>DELETE /job/{id}</c> takes <c>flags=</c>; <c>FULL_JOB</c> (also the default) signals the batch
/// script and every step, as <c>scancel --full</c>. Its answer reports errors in <c>errors</c> (Slurm 23.11,
/// 24.05) or, from 24.11 on, per job in <c>status</c> (as v0.0.42).</para>
/// </remarks>
internal class SlurmRestDialect040(int minor) : SlurmRestDialect(minor)
{
    public override bool ReportsLastUpdate => true;

    public override JsonObject SubmitBody(SlurmSubmission s, SlurmRestJobContext context) =>
        Body(s, [.. s.Components.Select(c => Descriptor(s, c, context, "gres/"))]);

    public override string? SubmittedId(JsonElement body) =>
        base.SubmittedId(body) ?? (Get(body, "result") is { } r ? Number(r, "job_id")?.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);

    public override long? LastUpdate(JsonElement body) => Number(body, "last_update") is { } t && t > 0 ? t : null;

    public override string DeleteQuery(string? signal) =>
        signal is null ? "?flags=FULL_JOB" : "?signal=" + SignalName(signal) + "&flags=FULL_JOB";

    public override IReadOnlyList<SlurmRestError> DeleteFailures(JsonElement body) =>
        Get(body, "status") is { ValueKind: JsonValueKind.Array } status
            ? [.. status.EnumerateArray()
                .Select(s => Get(s, "error") is { } e && (Number(e, "code") ?? 0) != 0 ? Error(e) : null)
                .OfType<SlurmRestError>()]
            : [];

    protected override string JobState(JsonElement job) => SlurmRestJson.JobState(Strings(job, "job_state"));

    protected override (int ExitCode, int Signal) ExitOf(JsonElement job) => Get(job, "exit_code") is { } e ? VerboseExit(e) : (0, 0);

    protected override string NodeState(JsonElement node) => SlurmRestJson.NodeState(Strings(node, "state"));

    protected override string AccountingState(JsonElement state) => SlurmRestJson.JobState(Strings(state, "current"));

    protected override (int ExitCode, int Signal) AccountingExit(JsonElement exitCode, string state) => VerboseExit(exitCode);
}
