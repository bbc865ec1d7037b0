namespace GpuFleet.Executors.Slurm;

/// <summary>
/// slurmrestd's <c>openapi/v0.0.42</c> to <c>v0.0.44</c> (Slurm 24.11, 25.05, 25.11), from their published
/// schemas (as slurmrestd generates them, kept in Slurm's testsuite).
/// </summary>
/// <remarks>
/// Jobs, nodes and accounting read as in v0.0.40. What changed: <c>DELETE /job/{id}</c> answers
/// <c>{status: [{job_id, step_id, error: {code, string, message}}]}</c>, with a failure per job there
/// (an unknown job is an error in <c>status</c>, not an HTTP error); a submission's answer no longer has
/// <c>result</c>, only <c>job_id</c>. Fields GpuFleet does not read were added (<c>step_id</c>,
/// <c>submit_line</c>) or removed (<c>exclusive</c>, <c>oversubscribe</c>).
/// </remarks>
internal sealed class SlurmRestDialect042(int minor) : SlurmRestDialect040(minor)
{
    // Only job_id: result (v0.0.40, v0.0.41) is gone.
    public override string? SubmittedId(System.Text.Json.JsonElement body) =>
        SlurmRestJson.Number(body, "job_id")?.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
