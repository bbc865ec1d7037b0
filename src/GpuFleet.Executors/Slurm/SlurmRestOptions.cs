namespace GpuFleet.Executors.Slurm;

/// <summary>
/// How a <see cref="SlurmExecutor"/> reaches its cluster through slurmrestd (Slurm's REST API) instead of the
/// command-line tools. Authentication is JWT (<c>rest_auth/jwt</c>): every request carries
/// <c>X-SLURM-USER-NAME</c> and <c>X-SLURM-USER-TOKEN</c>.
/// </summary>
/// <param name="Url">slurmrestd's address, e.g. <c>http://slurm-head:6820</c>.</param>
/// <param name="User">The Slurm user the jobs run as (<c>X-SLURM-USER-NAME</c>); null: not sent (Slurm 23.02+ takes the user from the token).</param>
/// <param name="Token">The JWT itself; exclusive with <paramref name="TokenFile"/>.</param>
/// <param name="TokenFile">A file holding the JWT (e.g. written by <c>scontrol token</c> from a cron job); read again when slurmrestd refuses the token, so that a rotated token is picked up.</param>
public sealed record SlurmRestOptions(Uri Url, string? User = null, string? Token = null, string? TokenFile = null)
{
    /// <summary>How long one request may take before the cluster counts as unreachable.</summary>
    public int TimeoutSeconds { get; init; } = 30;

    /// <summary>
    /// The batch script's working directory on the nodes. The command-line tools use the server's own;
    /// through slurmrestd Slurm needs one named. Null: the executor's output directory, else <c>/tmp</c>.
    /// </summary>
    public string? WorkingDirectory { get; init; }
}
