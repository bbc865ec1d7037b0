using System.Data.Common;
using System.Text.Json;
using GpuFleet.Core.Services;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;

namespace GpuFleet.Server.Storage;

/// <summary>
/// Inference services in the job database (table <c>services</c>), and their replicas, which are jobs of the
/// job table whose <c>service</c> column names their service. The API writes a service's spec, its reported
/// rate and its manual replica count (each with its audit entry, in one transaction); the leader reads them
/// every cycle, and writes the replica jobs it submits, scrape results and its scale decisions, fenced by its lease.
/// </summary>
public sealed class ServiceStore(JobStore store)
{
    /// <summary>Scale decisions kept per service (the newest).</summary>
    public const int KeptDecisions = 20;

    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    /// <summary>Stores a new service; null (nothing stored) when a service of that name exists.</summary>
    public Task<StoredService?> CreateAsync(ServiceSpec spec, string? prometheusQueryUrl, DateTimeOffset at, AuditEntry audit) =>
        store.WriteAsync<StoredService?>(async (c, t) =>
        {
            var id = await JobStore.ScalarAsync(c, t, """
                INSERT INTO services (name, tenant, spec, prometheus_url, created_at) VALUES (@n, @t, @s, @u, @at)
                ON CONFLICT (name) DO NOTHING RETURNING id;
                """, ("@n", spec.Name), ("@t", spec.Tenant), ("@s", JsonSerializer.Serialize(spec, Json)), ("@u", prometheusQueryUrl), ("@at", at.ToUnixTimeMilliseconds()));
            if (id is null or DBNull) return null;
            await AuditRows.InsertAsync(c, t, store.Dialect.BatchesRoundTrips, [audit]);
            return new StoredService(Convert.ToInt64(id), spec, prometheusQueryUrl, DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds()), 0, null, null, null, null, []);
        });

    /// <summary>A service by name, or null.</summary>
    public async Task<StoredService?> GetAsync(string name, CancellationToken cancel = default)
    {
        await using var c = await store.OpenAsync(cancel);
        await using var cmd = JobStore.Command(c, null, "SELECT * FROM services WHERE name = @n;", ("@n", name));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        return await r.ReadAsync(cancel) ? Read(r) : null;
    }

    /// <summary>The services of <paramref name="tenant"/> (null: all), by name.</summary>
    public async Task<IReadOnlyList<StoredService>> ListAsync(string? tenant, CancellationToken cancel = default)
    {
        await using var c = await store.OpenAsync(cancel);
        await using var cmd = JobStore.Command(c, null, "SELECT * FROM services WHERE (CAST(@t AS TEXT) IS NULL OR tenant = @t) ORDER BY name;", ("@t", tenant));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<StoredService>();
        while (await r.ReadAsync(cancel)) list.Add(Read(r));
        return list;
    }

    /// <summary>Every service (a new leader).</summary>
    public IReadOnlyList<StoredService> All()
    {
        using var c = store.Open();
        using var cmd = JobStore.Command(c, null, "SELECT * FROM services ORDER BY id;");
        using var r = cmd.ExecuteReader();
        var list = new List<StoredService>();
        while (r.Read()) list.Add(Read(r));
        return list;
    }

    /// <summary>The service of row <paramref name="id"/>; null when it was deleted.</summary>
    public StoredService? Get(long id)
    {
        using var c = store.Open();
        using var cmd = JobStore.Command(c, null, "SELECT * FROM services WHERE id = @id;", ("@id", id));
        using var r = cmd.ExecuteReader();
        return r.Read() ? Read(r) : null;
    }

    /// <summary>
    /// What drives each service now, by id (the leader, each cycle): the columns that change while a service
    /// lives, not its spec and decisions, which the leader holds already and would otherwise parse every cycle.
    /// </summary>
    public IReadOnlyList<ServiceDrive> Drives()
    {
        using var c = store.Open();
        using var cmd = JobStore.Command(c, null, "SELECT id, requests_per_second, rate_at, pinned_replicas, scraped_at, scrape_error FROM services ORDER BY id;");
        using var r = cmd.ExecuteReader();
        var list = new List<ServiceDrive>();
        while (r.Read())
            list.Add(new ServiceDrive(r.GetInt64(0), r.GetDouble(1), TimeAt(r, 2), r.IsDBNull(3) ? null : (int)r.GetInt64(3), TimeAt(r, 4), r.IsDBNull(5) ? null : r.GetString(5)));
        return list;
    }

    // A time stored as Unix milliseconds; null when none.
    private static DateTimeOffset? TimeAt(DbDataReader r, int column) => r.IsDBNull(column) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(column));

    /// <summary>Sets a service's reported rate and clears its manual replica count; false when there is no such service.</summary>
    public Task<bool> SetLoadAsync(string name, double requestsPerSecond, DateTimeOffset at, AuditEntry audit) =>
        UpdateAsync("UPDATE services SET requests_per_second = @r, rate_at = @at, pinned_replicas = NULL WHERE name = @n;", audit,
            ("@r", requestsPerSecond), ("@at", at.ToUnixTimeMilliseconds()), ("@n", name));

    /// <summary>Sets (or, with null, clears) a service's manual replica count; false when there is no such service.</summary>
    public Task<bool> SetPinnedAsync(string name, int? replicas, AuditEntry audit) =>
        UpdateAsync("UPDATE services SET pinned_replicas = @p WHERE name = @n;", audit, ("@p", replicas), ("@n", name));

    /// <summary>Deletes a service (the leader ends its replicas at its next cycle); false when there is no such service.</summary>
    public Task<bool> DeleteAsync(string name, AuditEntry audit) =>
        UpdateAsync("DELETE FROM services WHERE name = @n;", audit, ("@n", name));

    private Task<bool> UpdateAsync(string sql, AuditEntry audit, params (string, object?)[] args) =>
        store.WriteAsync(async (c, t) =>
        {
            if (await JobStore.ExecAsync(c, t, sql, args) == 0) return false;
            await AuditRows.InsertAsync(c, t, store.Dialect.BatchesRoundTrips, [audit]);
            return true;
        });

    /// <summary>The replicas of <paramref name="service"/> that are pending or running, by id.</summary>
    public async Task<IReadOnlyList<StoredReplica>> ReplicasAsync(string service, CancellationToken cancel = default)
    {
        await using var c = await store.OpenAsync(cancel);
        await using var cmd = JobStore.Command(c, null, $"{ReplicaSql} AND service = @s ORDER BY id;", ("@s", service));
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        var list = new List<StoredReplica>();
        while (await r.ReadAsync(cancel)) list.Add(ReadReplica(r));
        return list;
    }

    /// <summary>Every pending or running replica of any service (a new leader rebuilds its services from them).</summary>
    public IReadOnlyList<StoredReplica> ActiveReplicas()
    {
        using var c = store.Open();
        using var cmd = JobStore.Command(c, null, $"{ReplicaSql} ORDER BY id;");
        using var r = cmd.ExecuteReader();
        var list = new List<StoredReplica>();
        while (r.Read()) list.Add(ReadReplica(r));
        return list;
    }

    private const string ReplicaSql = "SELECT id, service, state, submitted_at, placement, site FROM jobs WHERE service IS NOT NULL AND active";

    private static StoredReplica ReadReplica(DbDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), Enum.Parse<JobState>(r.GetString(2)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5));

    /// <summary>
    /// Reserves <paramref name="count"/> job ids from the job table's own sequence, for replicas the leader is about to
    /// submit: ordinary submissions never get them. (Replicas are not given ids from 2^62 here, as the twin gives
    /// them: SQLite would number every later job above the highest id in the table.)
    /// </summary>
    public IReadOnlyList<long> ReserveJobIds(int count, long epoch)
    {
        if (count <= 0) return [];
        return store.FencedWrite<IReadOnlyList<long>>(epoch, async (c, t) =>
        {
            if (store.Dialect.Name == "postgres")
            {
                await using var cmd = JobStore.Command(c, t, "SELECT nextval(pg_get_serial_sequence('jobs', 'id')) FROM generate_series(1, @n);", ("@n", count));
                await using var r = await cmd.ExecuteReaderAsync();
                var ids = new List<long>();
                while (await r.ReadAsync()) ids.Add(r.GetInt64(0));
                return ids;
            }
            // SQLite: the sequence row exists once a job was stored (or ids were started above a floor).
            await JobStore.ExecAsync(c, t, "INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs');");
            var last = Convert.ToInt64(await JobStore.ScalarAsync(c, t,
                "UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT COALESCE(MAX(id), 0) FROM jobs)) + @n WHERE name = 'jobs' RETURNING seq;", ("@n", count)));
            return [.. Enumerable.Range(0, count).Select(k => last - count + 1 + k)];
        });
    }

    /// <summary>Stores replica jobs the leader of epoch <paramref name="epoch"/> submitted: pending jobs of their service's tenant, naming their service.</summary>
    public void InsertReplicas(IReadOnlyList<(long Id, NewJob Job, string Service)> replicas, DateTimeOffset at, long epoch)
    {
        if (replicas.Count == 0) return;
        store.FencedWrite(epoch, async (c, t) =>
        {
            var rows = replicas.Select(x => new (string, object?)[]
            {
                ("@id", x.Id), ("@name", x.Job.Name), ("@tenant", x.Job.Tenant), ("@gpus", x.Job.Gpus), ("@models", string.Join('|', x.Job.Models)),
                ("@limit", x.Job.TimeLimitSeconds), ("@class", x.Job.PriorityClass), ("@at", at.ToUnixTimeMilliseconds()),
                ("@topology", JobFieldRules.TopologyName(x.Job.Topology)), ("@cpus", x.Job.CpusPerGpu), ("@memory", x.Job.MemoryGbPerGpu),
                ("@slice", x.Job.Slice is null ? null : JobFieldRules.SliceCell(x.Job.Slice)), ("@service", x.Service),
                ("@detail", $"submitted: a replica of service '{x.Service}'"),
            }).ToList();
            await RepeatedStatement.RunAsync(c, t, batch: false, """
                INSERT INTO jobs (id, name, tenant, gpus, models, time_limit_seconds, priority, priority_class, command, runtime_seconds, state, submitted_at,
                    topology, required_site, data_site, data_gb, checkpoint_seconds, cpus_per_gpu, memory_gb_per_gpu, slice, service)
                VALUES (@id, @name, @tenant, @gpus, @models, @limit, 0, @class, NULL, NULL, 'Pending', @at, @topology, NULL, NULL, 0, 0, @cpus, @memory, @slice, @service);
                """, rows, scalar: false);
            await RepeatedStatement.RunAsync(c, t, batch: false, "INSERT INTO job_events (job_id, at, state, detail) VALUES (@id, @at, 'Pending', @detail);",
                [.. rows.Select(row => row.Where(a => a.Item1 is "@id" or "@at" or "@detail").ToArray())], scalar: false);
            return true;
        });
    }

    /// <summary>Records a scrape of a service's rate: the rate when it worked, else why not (the rate stays as it was).</summary>
    public void RecordScrape(long serviceId, double? requestsPerSecond, string? error, DateTimeOffset at, long epoch) =>
        store.FencedWrite(epoch, (c, t) => JobStore.ExecAsync(c, t, requestsPerSecond is { } rate
                ? "UPDATE services SET requests_per_second = @r, rate_at = @at, scraped_at = @at, scrape_error = NULL WHERE id = @id;"
                : "UPDATE services SET scraped_at = @at, scrape_error = @e WHERE id = @id;",
            ("@r", requestsPerSecond), ("@at", at.ToUnixTimeMilliseconds()), ("@e", error), ("@id", serviceId)));

    /// <summary>Stores a service's latest scale decisions (the newest <see cref="KeptDecisions"/>).</summary>
    public void RecordDecisions(long serviceId, IReadOnlyList<ServiceDecision> decisions, long epoch) =>
        store.FencedWrite(epoch, (c, t) => JobStore.ExecAsync(c, t, "UPDATE services SET decisions = @d WHERE id = @id;",
            ("@d", JsonSerializer.Serialize(decisions.TakeLast(KeptDecisions), Json)), ("@id", serviceId)));

    private static StoredService Read(DbDataReader r)
    {
        string? Text(string col) => r.IsDBNull(r.GetOrdinal(col)) ? null : r.GetString(r.GetOrdinal(col));
        long? Long(string col) => r.IsDBNull(r.GetOrdinal(col)) ? null : r.GetInt64(r.GetOrdinal(col));
        DateTimeOffset? Time(string col) => TimeAt(r, r.GetOrdinal(col));
        var spec = JsonSerializer.Deserialize<ServiceSpec>(r.GetString(r.GetOrdinal("spec")), Json)
            ?? throw new InvalidDataException($"service '{Text("name")}': no spec");
        var decisions = Text("decisions") is { } d ? JsonSerializer.Deserialize<List<ServiceDecision>>(d, Json) ?? [] : [];
        return new StoredService(r.GetInt64(r.GetOrdinal("id")), spec, Text("prometheus_url"), Time("created_at")!.Value,
            r.GetDouble(r.GetOrdinal("requests_per_second")), Time("rate_at"), Long("pinned_replicas") is { } p ? (int)p : null,
            Time("scraped_at"), Text("scrape_error"), decisions);
    }
}
