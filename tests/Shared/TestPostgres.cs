using System.Diagnostics;
using Npgsql;

namespace GpuFleet.Tests.Shared;

/// <summary>
/// A real PostgreSQL server for tests. <c>.ci/run</c> starts one and passes its connection string in
/// <c>GPUFLEET_TEST_POSTGRES</c>; without it, the first test that needs one starts a throwaway
/// cluster with <c>scripts/postgres-local.sh</c> (installing Debian's server if missing) and stops it
/// when the test run ends. Each test gets a database of its own.
/// </summary>
internal static class TestPostgres
{
    public const string Variable = "GPUFLEET_TEST_POSTGRES";
    private static readonly Lazy<string> Server = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to a new, empty database.</summary>
    public static string NewDatabase()
    {
        var name = "gf_" + Guid.NewGuid().ToString("N")[..16];
        using (var c = new NpgsqlConnection(Server.Value))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name};", c);
            cmd.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(Server.Value) { Database = name }.ConnectionString;
    }

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given) return given;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "GpuFleet.slnx"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("repository root not found");
        var state = Path.Combine(Path.GetTempPath(), $"gpufleet-test-pg-{Environment.ProcessId}");
        var script = Path.Combine(root.FullName, "scripts", "postgres-local.sh");
        // Asked for before the start: a start that fails part-way leaves a server to stop too.
        DetachedStop.WhenThisProcessExits("""bash "$0" stop""", ScriptEnvironment(state), script);
        Run(script, "start", state);
        return File.ReadAllText(Path.Combine(state, "conn")).Trim();
    }

    /// <summary>What <c>scripts/postgres-local.sh</c> is told about the server in <paramref name="state"/>.</summary>
    private static Dictionary<string, string> ScriptEnvironment(string state) => new()
    {
        ["PGSTATE"] = state,
        // 15000-15999: below Linux's ephemeral ports (32768-60999), which any outgoing connection may hold, and apart
        // from the test Slurm clusters' (10000-14999, 16817-17016, 20000-29999).
        ["PGPORT"] = (15000 + Environment.ProcessId % 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PG_FAST"] = "1",
    };

    private static void Run(string script, string verb, string state)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(verb);
        foreach (var (name, value) in ScriptEnvironment(state)) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} {verb} failed ({p.ExitCode}): {output}. Set {Variable} to a PostgreSQL connection string to use a running server.");
    }
}
