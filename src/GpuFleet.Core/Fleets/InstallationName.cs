namespace GpuFleet.Core.Fleets;

/// <summary>
/// The name of one GpuFleet installation (a deployment with its own database: production, staging), which
/// every run it starts on a cluster carries, so that two installations can share one cluster and each
/// observes, adopts and cancels only its own runs. Without a name, runs are named as they always were
/// (<c>gpufleet-&lt;id&gt;</c>).
/// </summary>
/// <remarks>
/// Example: installation <c>prod</c> names job 42's run <c>gpufleet-prod-42</c> (a Slurm job name, a Kubernetes
/// Job name) and labels it <c>gpufleet.io/installation=prod</c>. The name must hold wherever it goes: in a
/// Kubernetes Job name (a DNS-1123 name: lowercase letters, digits and '-', starting and ending with a letter or
/// digit, the whole Job name at most 63 characters since its pods carry it as a label value), in a label value,
/// and in a Slurm job name. It starts with a letter, so that <c>gpufleet-&lt;name&gt;-&lt;id&gt;</c> is never read
/// as another installation's <c>gpufleet-&lt;id&gt;</c>, and it is at most <see cref="MaxLength"/> characters, so
/// that with a 19-digit job id the Job name stays within 63.
/// </remarks>
public static class InstallationName
{
    /// <summary>Most characters of an installation name.</summary>
    public const int MaxLength = 20;

    /// <summary>What is wrong with <paramref name="name"/> as an installation name; null when it is one.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0) return "must not be empty";
        if (name.Length > MaxLength) return $"must be at most {MaxLength} characters, not {name.Length} ('{name}')";
        if (!char.IsAsciiLetterLower(name[0])) return $"must start with a lowercase letter (a-z), not '{name[0]}'";
        foreach (var c in name)
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-')
                return $"'{c}' cannot be in an installation name: lowercase letters, digits and '-' can (it goes into Kubernetes Job names and labels)";
        if (name[^1] == '-') return "must end with a letter or digit, not '-'";
        return null;
    }
}
