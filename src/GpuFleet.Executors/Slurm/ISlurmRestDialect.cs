using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// What differs between slurmrestd's OpenAPI plugin versions, behind one seam: how a job is written for
/// <c>POST /slurm/vX/job/submit</c> and how jobs, nodes, accounting records and signal results are read.
/// The endpoints are the same in every version; the schemas are not. One implementation per family:
/// <list type="bullet">
/// <item><c>v0.0.38</c> (Slurm 22.05): plain numbers, <c>job_state</c> a string, <c>exit_code</c> the raw wait
/// status, jobs written as sbatch options (<c>nodelist</c>, <c>gres</c>, an environment object).</item>
/// <item><c>v0.0.39</c> (23.02): numbers as <c>{set, infinite, number}</c>, jobs written as Slurm's job
/// descriptor (<c>required_nodes</c>, <c>tres_per_node</c>, an environment list).</item>
/// <item><c>v0.0.40</c>–<c>v0.0.41</c> (23.11, 24.05): <c>job_state</c> a list of flags, <c>exit_code</c> an object
/// <c>{status, return_code, signal}</c>, times as <c>{set, number}</c>, <c>last_update</c> for <c>update_time</c>.</item>
/// <item><c>v0.0.42</c>–<c>v0.0.44</c> (24.11, 25.05, 25.11): as v0.0.40, but a signal's outcome per job in
/// <c>status</c> and no <c>result</c> in a submission's answer.</item>
/// </list>
/// </summary>
internal interface ISlurmRestDialect
{
    /// <summary>The plugin version, e.g. <c>v0.0.42</c>: the path segment of every endpoint.</summary>
    string Version { get; }

    /// <summary>Whether <c>GET /jobs?update_time=</c> can be answered "nothing changed" and the answer says the time to ask from next (<see cref="LastUpdate"/>).</summary>
    bool ReportsLastUpdate { get; }

    /// <summary>The body of <c>POST /slurm/vX/job/submit</c> for <paramref name="submission"/>.</summary>
    JsonObject SubmitBody(SlurmSubmission submission, SlurmRestJobContext context);

    /// <summary>The job id in an accepted submission's answer; null when it has none.</summary>
    string? SubmittedId(JsonElement body);

    /// <summary>The jobs in <c>GET /slurm/vX/jobs</c>'s answer, those of <paramref name="partition"/> only when given.</summary>
    /// <exception cref="FormatException">The answer is not in this version's schema.</exception>
    IReadOnlyList<SlurmJob> Jobs(JsonElement body, string? partition);

    /// <summary>The controller's time of a <c>GET /jobs</c> answer, to ask <c>update_time=</c> from next; null when it gives none (an answer "nothing changed").</summary>
    long? LastUpdate(JsonElement body);

    /// <summary>The nodes in <c>GET /slurm/vX/nodes</c>'s answer, those of <paramref name="partition"/> only when given.</summary>
    /// <exception cref="FormatException">The answer is not in this version's schema.</exception>
    IReadOnlyList<SlurmNode> Nodes(JsonElement body, string? partition);

    /// <summary>The job records (not steps) in <c>GET /slurmdb/vX/jobs</c>'s answer.</summary>
    /// <exception cref="FormatException">The answer is not in this version's schema.</exception>
    IReadOnlyList<SlurmJob> Accounting(JsonElement body);

    /// <summary>The query of <c>DELETE /slurm/vX/job/{id}</c>: cancel when <paramref name="signal"/> is null, else send it to the batch script and every process of the job.</summary>
    string DeleteQuery(string? signal);

    /// <summary>Errors a <c>DELETE</c> answer reports per job, besides its <c>errors</c> list.</summary>
    IReadOnlyList<SlurmRestError> DeleteFailures(JsonElement body);
}
