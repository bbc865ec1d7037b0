using System.Diagnostics;
using System.Text.Json;

namespace GpuFleet.Cli.Tests;

/// <summary>Runs the real <c>gpufleet</c> program as a user would.</summary>
[Trait("Category", "Cli")]
public sealed class CliTests
{
    private static (int Code, string Out, string Err) Gpufleet(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "gpufleet.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Theory]
    [InlineData("simulate")]
    [InlineData("serve")]
    [InlineData("demo")]
    public void The_twin_and_the_live_service_take_the_same_scheduler_flags(string command)
    {
        var (code, stdout, stderr) = Gpufleet(command, "--help");
        Assert.True(code == 0, stderr);
        foreach (var flag in new[] { "--backfill-window", "--half-life-hours", "--large-gang-gpus", "--large-gang-wait", "--max-evictions",
                     "--max-preemption-attempts", "--preemption-retry", "--tenant-share" })
            Assert.Contains(flag, stdout);
    }

    [Fact]
    public void Serve_refuses_a_bad_scheduler_flag_naming_it()
    {
        var (code, _, stderr) = Gpufleet("serve", "--fleet", "fleets/korea-2026.yaml", "--db", TestFiles.Temp("bad-flag.db"), "--max-evictions", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--max-evictions must be at least 0", stderr);
    }

    [Fact]
    public void Simulate_compares_policies_and_writes_json_and_charts()
    {
        var json = TestFiles.Temp("report.json");
        var charts = Path.Combine(Path.GetDirectoryName(json)!, "charts");
        var trace = TestFiles.Temp("small.csv");
        File.WriteAllLines(trace, ReadSample(2_000));
        var (code, stdout, stderr) = Gpufleet("simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", trace, "--policy", "fifo,backfill,fairshare", "--json", json, "--charts", charts);
        Assert.True(code == 0, stderr);
        Assert.Contains("fairshare", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        foreach (var policy in new[] { "fifo", "backfill", "fairshare" })
        {
            var r = doc.RootElement.GetProperty(policy);
            foreach (var key in new[] { "jobs", "utilization", "meanWaitSeconds", "p99WaitSeconds", "meanJctSeconds", "makespanSeconds", "idleGpuHoursWhileWaiting", "wallSeconds" })
                Assert.True(r.TryGetProperty(key, out _), $"{policy} lacks {key}");
            Assert.Equal(2_000, r.GetProperty("jobs").GetInt32());
            Assert.InRange(r.GetProperty("utilization").GetDouble(), 0, 1);
            Assert.False(r.TryGetProperty("nodeFailures", out _), $"{policy} reports failures it was not given");
        }
        Assert.DoesNotContain("node failures", stdout);
        foreach (var svg in new[] { "utilization.svg", "queue.svg", "power.svg", "wait-cdf.svg", "tenant-share.svg" })
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(charts, svg)));
        Assert.StartsWith("timeSeconds,utilization,queueLength,powerMw", File.ReadLines(Path.Combine(charts, "timeseries-fifo.csv")).First());
    }

    [Fact]
    public void Simulate_with_a_tenant_tree_reports_sharing_preemption_and_power_per_site()
    {
        var json = TestFiles.Temp("tenants.json");
        var trace = TestFiles.Temp("small.csv");
        File.WriteAllLines(trace, ReadSample(3_000));
        // A 0.3 MW cap that binds: the site at full load would draw ~0.369 MW.
        var (code, stdout, stderr) = Gpufleet("simulate", "--fleet", "fleets/philly-power-capped.yaml", "--trace", trace,
            "--tenants", "tenants/philly-vcs.yaml", "--policy", "static,shared", "--json", json);
        Assert.True(code == 0, stderr);
        Assert.Contains("Tenants", stdout);
        Assert.Contains("vc-6214e9", stdout);
        // The same run with the cap lifted, to show that the cap is what holds the peak down.
        var uncappedFleet = TestFiles.Temp("uncapped.yaml");
        var fleetText = File.ReadAllText(Path.Combine(TestFiles.Root, "fleets", "philly-power-capped.yaml"));
        Assert.Contains("powerCapMw: 0.3 ", fleetText);
        File.WriteAllText(uncappedFleet, fleetText.Replace("powerCapMw: 0.3 ", "powerCapMw: 100 "));
        var uncappedJson = TestFiles.Temp("uncapped.json");
        (code, _, stderr) = Gpufleet("simulate", "--fleet", uncappedFleet, "--trace", trace,
            "--tenants", "tenants/philly-vcs.yaml", "--policy", "static,shared", "--json", uncappedJson);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        using var uncapped = JsonDocument.Parse(File.ReadAllText(uncappedJson));
        foreach (var policy in new[] { "static", "shared" })
        {
            var r = doc.RootElement.GetProperty(policy);
            foreach (var key in new[] { "perTenant", "preemptions", "lostGpuHours", "largeGangMaxWaitSeconds", "sitePeakPowerMw", "sitePowerCapMw", "neverFitJobs", "perOwner" })
                Assert.True(r.TryGetProperty(key, out _), $"{policy} lacks {key}");
            Assert.Equal(0.3, r.GetProperty("sitePowerCapMw").GetProperty("philly").GetDouble());
            var peak = r.GetProperty("sitePeakPowerMw").GetProperty("philly").GetDouble();
            Assert.True(peak is > 0 and <= 0.3, $"{policy}: peak {peak} MW under a 0.3 MW cap");
            Assert.Equal(0, r.GetProperty("powerCapViolations").GetInt32());
            var tenant = r.GetProperty("perTenant").EnumerateArray().First(t => t.GetProperty("tenant").GetString() == "vc-6214e9");
            Assert.Equal(118, tenant.GetProperty("guaranteeGpus").GetInt32());
            Assert.Equal("philly", tenant.GetProperty("owner").GetString());
        }
        // Static partitions never load the site up to the cap; sharing does, and there the cap is what holds
        // the peak down: without it the same run draws more, with it the peak is within 10% under the cap.
        var sharedPeak = doc.RootElement.GetProperty("shared").GetProperty("sitePeakPowerMw").GetProperty("philly").GetDouble();
        var sharedUncappedPeak = uncapped.RootElement.GetProperty("shared").GetProperty("sitePeakPowerMw").GetProperty("philly").GetDouble();
        Assert.True(sharedUncappedPeak > 0.3, $"shared: peak {sharedUncappedPeak} MW without the cap");
        Assert.True(sharedPeak >= 0.27, $"shared: peak {sharedPeak} MW under a 0.3 MW cap");
    }

    [Fact]
    public void Simulate_with_failures_reports_them_for_each_policy_under_the_same_failures()
    {
        var trace = TestFiles.Temp("small.csv");
        File.WriteAllLines(trace, ReadSample(2_000));
        var failures = TestFiles.Temp("failures.csv");
        File.WriteAllText(failures, "at,target,duration\n# a node, then the whole site\n6h,philly-p100-0012,2h\n1d,philly,30m\n");
        string Run(string seed)
        {
            var json = TestFiles.Temp("failures.json");
            var (code, stdout, stderr) = Gpufleet("simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", trace, "--policy", "fifo,backfill",
                "--failures", failures, "--node-mtbf", "300", "--node-repair", "4", "--failure-seed", seed, "--json", json);
            Assert.True(code == 0, stderr);
            Assert.Contains("node failures", stdout);
            Assert.Contains("GPU-h out of service", stdout);
            return File.ReadAllText(json);
        }
        var report = Run("5");
        using var doc = JsonDocument.Parse(report);
        foreach (var policy in new[] { "fifo", "backfill" })
        {
            var r = doc.RootElement.GetProperty(policy);
            // The site's 82 nodes and the one node at least, besides the random ones.
            Assert.True(r.GetProperty("nodeFailures").GetInt32() >= 83, $"{policy}: {r.GetProperty("nodeFailures")} node failures");
            Assert.True(r.GetProperty("jobsInterruptedByFailures").GetInt32() > 0, policy);
            Assert.True(r.GetProperty("failureLostGpuHours").GetDouble() > 0, policy);
            // The site's outage alone keeps 656 GPUs out for half an hour.
            Assert.True(r.GetProperty("outOfServiceGpuHours").GetDouble() >= 328, policy);
            Assert.Equal(2_000, r.GetProperty("jobs").GetInt32());
        }
        var wall = new System.Text.RegularExpressions.Regex("\"wallSeconds\": [0-9.E+-]+");
        Assert.Equal(wall.Replace(report, ""), wall.Replace(Run("5"), ""));
        Assert.NotEqual(wall.Replace(report, ""), wall.Replace(Run("6"), ""));
    }

    [Fact]
    public async Task A_twin_run_of_a_served_file_reports_what_simulate_writes_for_it()
    {
        // The same 3,000 jobs, uploaded to a running server as cut.csv, and given to simulate as cut.csv.
        var trace = TestFiles.Temp("cut.csv");
        File.WriteAllLines(trace, ReadSample(3_000));
        var json = TestFiles.Temp("simulated.json");
        var (code, _, stderr) = Gpufleet("simulate", "--fleet", "fleets/philly-contended.yaml", "--tenants", "tenants/philly-vcs.yaml", "--trace", trace,
            "--policy", "fairshare,shared", "--json", json);
        Assert.True(code == 0, stderr);

        using var server = await ServerProcess.StartAsync(TestFiles.Temp("twin.db"), fleet: "fleets/philly.yaml");
        using var form = new MultipartFormDataContent
        {
            { new StringContent("philly-contended"), "fleet" },
            { new StringContent("philly-vcs"), "tenants" },
            { new StringContent("fairshare"), "policies" },
            { new StringContent("shared"), "policies" },
            { new StringContent("upload"), "source" },
            { new ByteArrayContent(File.ReadAllBytes(trace)), "traceFile", "cut.csv" },
        };
        using var started = await server.Client.PostAsync("/api/v1/twin/runs", form);
        Assert.True(started.StatusCode == System.Net.HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        var run = started.Headers.Location!.ToString();
        var state = "queued";
        // A bound of two minutes on a run of seconds, not a timing.
        for (var deadline = DateTime.UtcNow.AddMinutes(2); state is "queued" or "running" && DateTime.UtcNow < deadline; await Task.Delay(200))
            state = (await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<JsonElement>(server.Client, run)).GetProperty("state").GetString()!;
        Assert.Equal("succeeded", state);
        var wall = new System.Text.RegularExpressions.Regex("\"wallSeconds\": [0-9.E+-]+");
        Assert.Equal(wall.Replace(File.ReadAllText(json), "\"wallSeconds\": 0"), wall.Replace(await server.Client.GetStringAsync(run + "/report"), "\"wallSeconds\": 0"));
    }

    [Theory]
    [InlineData("--twin-queue", "0", "--twin-queue must be at least 1")]
    [InlineData("--twin-per-token", "-1", "--twin-per-token must be at least 1")]
    [InlineData("--twin-dir", "no/such/dir", "--twin-dir: no directory 'no/such/dir'")]
    public void Serve_refuses_a_bad_twin_flag_naming_it(string flag, string value, string message)
    {
        var (code, _, stderr) = Gpufleet("serve", "--fleet", "fleets/philly.yaml", "--db", TestFiles.Temp("twin-flag.db"), flag, value);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void Two_processes_give_byte_identical_reports_and_series()
    {
        // A separate process per run: an order that hangs on a per-process hash seed (string.GetHashCode,
        // HashCode.Combine) or on memory addresses agrees with itself within one process but not across two.
        // Arrivals in ten-minute batches ("2017-10-01 00:07:45" → "00:00:00"): jobs of many tenants arrive at
        // the same second, so every tie between them must be broken the same way in both processes.
        var trace = TestFiles.Temp("batched.csv");
        File.WriteAllLines(trace, ReadSample(2_000).Select((line, i) => i == 0 ? line : line[..15] + "0:00" + line[19..]));
        string Run()
        {
            var json = TestFiles.Temp("report.json");
            var charts = Path.Combine(Path.GetDirectoryName(json)!, "charts");
            var (code, _, stderr) = Gpufleet("simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", trace, "--tenants", "tenants/philly-vcs.yaml",
                "--policy", "backfill,fairshare,shared", "--json", json, "--charts", charts);
            Assert.True(code == 0, stderr);
            // Wall-clock time is the one figure that may differ: blank it, and compare the rest byte for byte.
            var wall = new System.Text.RegularExpressions.Regex("\"wallSeconds\": [0-9.E+-]+");
            var report = File.ReadAllText(json);
            Assert.Equal(3, wall.Count(report));
            var series = Directory.GetFiles(charts, "timeseries-*.csv").Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f) + "\n" + File.ReadAllText(f));
            return wall.Replace(report, "\"wallSeconds\": 0") + "\n" + string.Join("\n", series);
        }
        var first = Run();
        var second = Run();
        if (first != second)
        {
            var at = first.Zip(second).TakeWhile(p => p.First == p.Second).Count();
            Assert.Fail($"the runs differ at character {at}: ...{first[Math.Max(0, at - 80)..Math.Min(first.Length, at + 80)]}... vs ...{second[Math.Max(0, at - 80)..Math.Min(second.Length, at + 80)]}...");
        }
    }

    [Fact]
    public void Bad_inputs_give_one_line_errors_not_stack_traces()
    {
        var notGzip = TestFiles.Temp("trace.csv.gz");
        File.WriteAllText(notGzip, NativeTraceHeader + "\n1,0,a,1,,site,10,5,0\n");
        var bad = TestFiles.Temp("bad.yaml");
        File.WriteAllText(bad, "name: x\nmodels: []\nsites:\n  - { name: s, owner: o, powerCapMw: -1 }\npools: []\n");
        var failures = TestFiles.Temp("failures.csv");
        File.WriteAllText(failures, "at,target,duration\n0,philly,1h\n60,philly-p100-0999,1h\n");
        var sample = new[] { "simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", "traces/philly-2017-10.csv.gz" };
        var cases = new[]
        {
            ([.. sample, "--failures", failures], $"{failures}:3: target: 'philly-p100-0999' is neither a site nor a node"),
            ([.. sample, "--node-mtbf", "100"], "--node-repair: give the hours a failed node stays down"),
            ([.. sample, "--node-mtbf", "0", "--node-repair", "2"], "--node-mtbf must be a positive number of hours, not 0"),
            ([.. sample, "--node-mtbf", "100", "--node-repair", "-2"], "--node-repair must be a positive number of hours, not -2"),
            ([.. sample, "--node-repair", "2"], "--node-repair: give --node-mtbf too"),
            ([.. sample, "--failure-seed", "2"], "--failure-seed: give --node-mtbf too"),
            ([.. sample, "--launch-latency", "-1"], "--launch-latency must be 0 or more seconds, not -1"),
            (new[] { "bench", "slurm", "--slurm-conf", "nope.conf" }, "--slurm-conf: nope.conf: file: not found"),
            (new[] { "bench", "slurm", "--slurm-conf", "nope.conf", "--variants", "slurm" }, "--variants: give a comma list of slurm-default, slurm-tuned, gpufleet"),
            (new[] { "fleet", "show", bad }, "sites[0].powerCapMw"),
            (new[] { "simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", notGzip }, "is not a readable gzip file"),
            (new[] { "simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", "nope.csv" }, "nope.csv: file: not found"),
            (new[] { "simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", "traces/philly-2017-10.csv.gz", "--policy", "lottery" }, "--policy: unknown policy 'lottery'"),
            (new[] { "workload", "generate", "--fleet", "fleets/philly.yaml", "--days", "-1", "--load", "0.9", "--out", TestFiles.Temp("w.csv") }, "--days"),
            (new[] { "workload", "generate", "--fleet", "fleets/philly.yaml", "--days", "1", "--load", "0.9", "--out", TestFiles.Temp("w.csv"), "--services-out", "s.yaml" },
                "--services-out needs --services N"),
            (new[] { "workload", "generate", "--fleet", "fleets/philly.yaml", "--days", "1", "--load", "0.9", "--out", TestFiles.Temp("w.csv"), "--services", "-1" },
                "--services must be between 0 and 1000"),
            (new[] { "workload", "generate", "--fleet", "fleets/philly.yaml", "--days", "1", "--load", "0.9", "--out", TestFiles.Temp("w.csv"), "--mix-share", "0.5" },
                "--mix-share needs --mix"),
            (new[] { "workload", "generate", "--fleet", "fleets/mixed-nodes.yaml", "--days", "1", "--load", "0.9", "--out", TestFiles.Temp("w.csv"), "--mix", "pai-2020", "--mix-share", "0" },
                "--mix-share must be above 0 and at most 1"),
            (new[] { "workload", "generate", "--fleet", "fleets/korea-2030.yaml", "--days", "7", "--load", "0.85", "--out", TestFiles.Temp("w.csv"), "--mix", "pai-2020" },
                "more than 10,000,000: lower --days or --load, or draw less of it from the mix with --mix-share"),
            (new[] { "workload", "generate", "--fleet", "fleets/philly.yaml", "--days", "1", "--load", "0.9", "--out", TestFiles.Temp("w.csv"), "--services", "2", "--rates", "nope.csv" },
                "nope.csv: file: not found"),
            (new[] { "serve", "--fleet", "fleets/philly.yaml", "--executor", "slurm" }, "--executor: unknown executor 'slurm'"),
            (new[] { "serve", "--fleet", "fleets/philly.yaml", "--installation", "Prod" }, "--installation: must start with a lowercase letter (a-z), not 'P'"),
            (new[] { "simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", "traces/philly-2017-10.csv.gz", "--policy", "shared" }, "--tenants: policy 'shared' needs a tenant tree"),
            (new[] { "simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", "traces/philly-2017-10.csv.gz", "--policy", "static", "--tenants", "tenants/korea-2030.yaml" },
                "unknown GPU model 'GB200'"),
        };
        foreach (var (args, expected) in cases)
        {
            var (code, _, err) = Gpufleet(args);
            Assert.Equal(2, code);
            Assert.Contains(expected, err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    [Fact]
    public void Fleet_show_and_workload_generate_work()
    {
        var (code, stdout, err) = Gpufleet("fleet", "show", "fleets/korea-2030.yaml");
        Assert.True(code == 0, err);
        Assert.Contains("samsung", stdout);
        Assert.Contains("260,144 GPUs", stdout);
        Assert.Contains("national-sejong-gb200-[0001-5004]", stdout);   // node names as a host list
        var output = TestFiles.Temp("gen.csv");
        (code, stdout, err) = Gpufleet("workload", "generate", "--fleet", "fleets/philly-contended.yaml", "--days", "3", "--load", "0.9", "--seed", "5", "--out", output);
        Assert.True(code == 0, err);
        var first = File.ReadAllText(output);
        Assert.StartsWith("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority", first);
        Gpufleet("workload", "generate", "--fleet", "fleets/philly-contended.yaml", "--days", "3", "--load", "0.9", "--seed", "5", "--out", output);
        Assert.Equal(first, File.ReadAllText(output));

        // A .gz name gets gzip, with the tree's projects as tenants, and simulate reads it back.
        var gz = TestFiles.Temp("gen.csv.gz");
        (code, _, err) = Gpufleet("workload", "generate", "--fleet", "fleets/philly-contended.yaml", "--tenants", "tenants/philly-vcs.yaml",
            "--days", "1", "--load", "0.9", "--out", gz);
        Assert.True(code == 0, err);
        Assert.Equal(0x1f, File.ReadAllBytes(gz)[0]);
        (code, stdout, err) = Gpufleet("simulate", "--fleet", "fleets/philly-contended.yaml", "--trace", gz, "--tenants", "tenants/philly-vcs.yaml", "--policy", "shared");
        Assert.True(code == 0, err);
        Assert.Contains("vc-", stdout);
    }

    [Fact]
    public void Workload_generate_writes_services_beside_a_mixed_workload_and_simulate_runs_them()
    {
        var dir = TestFiles.Temp("generated-week");
        Directory.CreateDirectory(dir);
        var trace = Path.Combine(dir, "small.csv");
        var (code, stdout, err) = Gpufleet("workload", "generate", "--fleet", "fleets/mixed-nodes.yaml", "--days", "2", "--load", "0.8", "--seed", "4",
            "--mix", "pai-2020", "--services", "4", "--out", trace);
        Assert.True(code == 0, err);
        var services = Path.Combine(dir, "small.services.yaml");
        Assert.Contains($"4 services (about 8 GPU-equivalents at their peaks) -> {services}; their rate curve -> {Path.Combine(dir, "small.services.rate.csv")}", stdout);
        Assert.StartsWith("seconds,requestsPerSecond", File.ReadAllText(Path.Combine(dir, "small.services.rate.csv")));
        (code, _, err) = Gpufleet("simulate", "--fleet", "fleets/mixed-nodes.yaml", "--trace", trace, "--services", services, "--policy", "backfill", "--json", Path.Combine(dir, "r.json"));
        Assert.True(code == 0, err);
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "r.json"))).RootElement.EnumerateObject().Single().Value;
        var reported = report.GetProperty("services").EnumerateArray().ToList();
        Assert.Equal(["service-01", "service-02", "service-03", "service-04"], reported.Select(s => s.GetProperty("service").GetString()));
        // Each served its requests over the two days (the fleet has room for 5% more).
        Assert.All(reported, s => Assert.True(s.GetProperty("requests").GetDouble() > 0 && s.GetProperty("servedShare").GetDouble() > 0.99, s.ToString()));
    }

    [Fact]
    public async Task Demo_starts_the_service_prints_url_and_token_and_replays_load()
    {
        var port = TestFiles.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "gpufleet.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        foreach (var a in new[] { dll, "demo", "--db", TestFiles.Temp("demo.db"), "--urls", $"http://127.0.0.1:{port}", "--time-scale", "20000" })
            psi.ArgumentList.Add(a);
        using var demo = Process.Start(psi)!;
        try
        {
            var header = await demo.StandardOutput.ReadLineAsync();
            Assert.StartsWith("GpuFleet demo: korea-2030", header);
            Assert.Contains($"http://127.0.0.1:{port}", await demo.StandardOutput.ReadLineAsync());
            var token = (await demo.StandardOutput.ReadLineAsync())!.Split("token:")[1].Trim();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            var jobs = 0;
            for (var i = 0; i < 150 && jobs == 0; i++)
            {
                await Task.Delay(100);
                if (!await Healthy(http)) continue;
                jobs = JsonDocument.Parse(await http.GetStringAsync("/api/v1/jobs?limit=10")).RootElement.GetProperty("items").GetArrayLength();
            }
            Assert.True(jobs > 0, "the demo replayed no jobs");
        }
        finally
        {
            demo.Kill(entireProcessTree: true);
            demo.WaitForExit();
        }
    }

    [Fact]
    public void Serve_names_the_database_it_cannot_open_without_showing_its_password()
    {
        var (code, _, err) = Gpufleet("serve", "--fleet", "fleets/korea-2026.yaml", "--db", "Host=127.0.0.1;Port=1;Username=u;Password=hunter2;Database=d");
        Assert.Equal(2, code);
        Assert.Contains("--db: cannot open postgres 127.0.0.1:1/d", err);
        Assert.DoesNotContain("hunter2", err);
        (code, _, err) = Gpufleet("demo", "--db", "postgresql://u@127.0.0.1:1/d");
        Assert.Equal(2, code);
        Assert.Contains("--db", err);
    }

    [Fact]
    public async Task Serve_accepts_jobs_over_http_and_places_them()
    {
        var port = TestFiles.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "gpufleet.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        foreach (var a in new[] { dll, "serve", "--fleet", "fleets/korea-2026.yaml", "--db", TestFiles.Temp("serve.db"), "--urls", $"http://127.0.0.1:{port}" })
            psi.ArgumentList.Add(a);
        psi.Environment["GPUFLEET_ADMIN_TOKEN"] = "cli-test-admin";
        using var server = Process.Start(psi)!;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "cli-test-admin");
            for (var i = 0; i < 100 && !await Healthy(http); i++) await Task.Delay(100);
            using var created = await http.PostAsync("/api/v1/jobs", new StringContent("{\"tenant\":\"lab\",\"gpus\":8,\"timeLimitSeconds\":600}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
            var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
            string? state = null;
            for (var i = 0; i < 50 && state != "running"; i++)
            {
                await Task.Delay(100);
                state = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/jobs/{id}")).RootElement.GetProperty("state").GetString();
            }
            Assert.Equal("running", state);

            // The client commands against the same server.
            string[] At(params string[] args) => [args[0], "--server", $"http://127.0.0.1:{port}", "--token", "cli-test-admin", .. args[1..]];
            var (code, stdout, err) = Gpufleet(At("submit", "--gpus", "4", "--time", "30m", "--tenant", "lab", "--", "python", "train.py"));
            Assert.True(code == 0, err);
            Assert.Matches(@"^job \d+ pending", stdout);
            var second = long.Parse(stdout.Split(' ')[1]);
            (code, stdout, err) = Gpufleet(At("jobs", "--json"));
            Assert.True(code == 0, err);
            Assert.Equal(2, JsonDocument.Parse(stdout).RootElement.GetProperty("items").GetArrayLength());
            (code, stdout, err) = Gpufleet(At("show", second.ToString(), "--json"));
            Assert.True(code == 0, err);
            Assert.Equal("python train.py", JsonDocument.Parse(stdout).RootElement.GetProperty("command").GetString());
            (code, _, err) = Gpufleet(At("cancel", second.ToString()));
            Assert.True(code == 0, err);
            (code, stdout, _) = Gpufleet(At("why", second.ToString()));
            Assert.Contains("cancelled", stdout);
            // The sites as an operator checks them: every site of the fleet, busy GPUs included.
            (code, stdout, err) = Gpufleet(At("sites", "--json"));
            Assert.True(code == 0, err);
            var sites = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(GpuFleet.Data.Fleets.FleetFile.Load(Path.Combine(TestFiles.Root, "fleets/korea-2026.yaml")).Sites.Count, sites.GetArrayLength());
            Assert.True(sites.EnumerateArray().Sum(x => x.GetProperty("busyGpus").GetInt32()) >= 8);
            (code, stdout, err) = Gpufleet(At("sites"));
            Assert.True(code == 0, err);
            Assert.Contains("naver-chuncheon", stdout);
            Assert.Contains("GPUs", stdout);
            (code, _, err) = Gpufleet(At("submit", "--gpus", "0", "--time", "1h", "--tenant", "lab"));
            Assert.Equal(2, code);
            Assert.Contains("400 gpus: must be at least 1", err);
            (code, stdout, err) = Gpufleet(At("usage", "--csv"));
            Assert.True(code == 0, err);
            Assert.StartsWith("tenant,owner,model,site,gpuHours,energyKwh,cost", stdout);
            Assert.Contains("lab,lab,", stdout);
            // A job file with every trace field, times as durations; a flag overrides the file.
            var jobFile = TestFiles.Temp("job.yaml");
            File.WriteAllLines(jobFile, ["name: placed", "tenant: lab", "gpus: 8", "timeLimitSeconds: 2h", "topology: node", "site: naver-chuncheon",
                "dataSite: nhn-gwangju", "dataGb: 2.5", "checkpointSeconds: 30m", "priorityClass: preemptible", "models: [B200]"]);
            (code, stdout, err) = Gpufleet(At("submit", "--file", jobFile, "--data-gb", "4", "--json"));
            Assert.True(code == 0, err);
            (code, stdout, err) = Gpufleet(At("show", JsonDocument.Parse(stdout).RootElement.GetProperty("id").ToString(), "--json"));
            Assert.True(code == 0, err);
            var placed = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(("node", "naver-chuncheon", "nhn-gwangju", 4.0, 1_800L, 7_200L, "preemptible"), (placed.GetProperty("topology").GetString(),
                placed.GetProperty("site").GetString(), placed.GetProperty("dataSite").GetString(), placed.GetProperty("dataGb").GetDouble(),
                placed.GetProperty("checkpointSeconds").GetInt64(), placed.GetProperty("timeLimitSeconds").GetInt64(), placed.GetProperty("priorityClass").GetString()));
            // The same fields as flags.
            (code, stdout, err) = Gpufleet(At("submit", "--gpus", "8", "--time", "1h", "--tenant", "lab", "--topology", "domain", "--site", "kakao-ansan",
                "--data-site", "kakao-ansan", "--data-gb", "1.5", "--checkpoint", "2h", "--json"));
            Assert.True(code == 0, err);
            var flagged = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(("domain", "kakao-ansan", "kakao-ansan", 1.5, 7_200L), (flagged.GetProperty("topology").GetString(), flagged.GetProperty("site").GetString(),
                flagged.GetProperty("dataSite").GetString(), flagged.GetProperty("dataGb").GetDouble(), flagged.GetProperty("checkpointSeconds").GetInt64()));
            // A job that can never run is refused when it is submitted, with the reason.
            (code, _, err) = Gpufleet(At("submit", "--gpus", "16", "--time", "1h", "--tenant", "lab", "--topology", "node"));
            Assert.Equal(2, code);
            Assert.Contains("400 gpus: 16 GPUs can never fit within one node", err);
            (code, _, err) = Gpufleet("jobs", "--server", $"http://127.0.0.1:{port}", "--token", "forged");
            Assert.Equal(2, code);
            Assert.Contains("401", err);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    [Fact]
    public void Submit_refuses_a_job_file_with_an_unknown_key_naming_it()
    {
        var jobFile = TestFiles.Temp("misspelt.yaml");
        File.WriteAllLines(jobFile, ["tenant: lab", "gpus: 8", "timeLimitSecond: 2h"]);
        // Refused before any server is asked: none listens there.
        var (code, _, err) = Gpufleet("submit", "--server", "http://127.0.0.1:1", "--file", jobFile);
        Assert.Equal(2, code);
        Assert.Contains($"--file: {jobFile}: unknown key 'timeLimitSecond' (a job file has: name, tenant, gpus,", err);
    }

    [Fact]
    public async Task Submit_sends_cpus_memory_and_slices_from_a_job_file_and_flags_and_show_and_jobs_print_the_slice()
    {
        var port = TestFiles.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "gpufleet.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestFiles.Root };
        foreach (var a in new[] { dll, "serve", "--fleet", "fleets/korea-2026.yaml", "--db", TestFiles.Temp("slices.db"), "--urls", $"http://127.0.0.1:{port}" })
            psi.ArgumentList.Add(a);
        psi.Environment["GPUFLEET_ADMIN_TOKEN"] = "cli-test-admin";
        using var server = Process.Start(psi)!;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            for (var i = 0; i < 100 && !await Healthy(http); i++) await Task.Delay(100);
            string[] At(params string[] args) => [args[0], "--server", $"http://127.0.0.1:{port}", "--token", "cli-test-admin", .. args[1..]];

            // Per-job CPU and memory (spread over the GPUs) and a MIG slice as the API's object.
            var jobFile = TestFiles.Temp("mig-job.yaml");
            File.WriteAllLines(jobFile, ["tenant: lab", "gpus: 4", "timeLimitSeconds: 1h", "cpus: 16", "memoryGb: 200", "slice:", "  migProfile: 1g.23gb"]);
            var (code, stdout, err) = Gpufleet(At("submit", "--file", jobFile, "--json"));
            Assert.True(code == 0, err);
            var mig = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal((4.0, 50.0, "1g.23gb"), (mig.GetProperty("cpusPerGpu").GetDouble(), mig.GetProperty("memoryGbPerGpu").GetDouble(),
                mig.GetProperty("slice").GetProperty("migProfile").GetString()));
            (code, stdout, err) = Gpufleet(At("show", mig.GetProperty("id").ToString()));
            Assert.True(code == 0, err);
            Assert.Contains("· 4 × mig:1g.23gb ·", stdout);
            Assert.Contains("per slice: 4 CPUs, 50 GB memory", stdout);

            // A fraction as a map of numbers, and the same as a trace cell; per-GPU amounts; a flag overrides the file's per-job form.
            File.WriteAllLines(jobFile, ["tenant: lab", "gpus: 2", "timeLimitSeconds: 1h", "cpus: 64", "memoryGbPerGpu: 32", "slice: { gpuFraction: 0.25, gpuMemoryGb: 20 }"]);
            (code, stdout, err) = Gpufleet(At("submit", "--file", jobFile, "--cpus-per-gpu", "3", "--json"));
            Assert.True(code == 0, err);
            var shared = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal((3.0, 32.0, 0.25, 20.0), (shared.GetProperty("cpusPerGpu").GetDouble(), shared.GetProperty("memoryGbPerGpu").GetDouble(),
                shared.GetProperty("slice").GetProperty("gpuFraction").GetDouble(), shared.GetProperty("slice").GetProperty("gpuMemoryGb").GetDouble()));
            File.WriteAllLines(jobFile, ["tenant: lab", "gpus: 2", "timeLimitSeconds: 1h", "slice: 0.5:40"]);
            (code, stdout, err) = Gpufleet(At("submit", "--file", jobFile, "--json"));
            Assert.True(code == 0, err);
            var cell = JsonDocument.Parse(stdout).RootElement.GetProperty("slice");
            Assert.Equal((0.5, 40.0, false), (cell.GetProperty("gpuFraction").GetDouble(), cell.GetProperty("gpuMemoryGb").GetDouble(), cell.TryGetProperty("migProfile", out _)));
            (code, stdout, err) = Gpufleet(At("submit", "--gpus", "1", "--time", "1h", "--tenant", "lab", "--slice", "mig:3g.71gb", "--memory-gb-per-gpu", "100", "--json"));
            Assert.True(code == 0, err);
            var flagged = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(("3g.71gb", 100.0), (flagged.GetProperty("slice").GetProperty("migProfile").GetString(), flagged.GetProperty("memoryGbPerGpu").GetDouble()));

            (code, stdout, err) = Gpufleet(At("jobs"));
            Assert.True(code == 0, err);
            Assert.Contains("4 × mig:1g.23gb", stdout);
            Assert.Contains("2 × 0.25 GPU, 20 GB", stdout);
            Assert.Contains("1 × mig:3g.71gb", stdout);

            // The server's refusals name the field.
            (code, _, err) = Gpufleet(At("submit", "--gpus", "1", "--time", "1h", "--tenant", "lab", "--slice", "mig:9g.1tb"));
            Assert.Equal(2, code);
            Assert.Contains("400 slice: unknown MIG profile '9g.1tb'", err);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    [Theory]
    [InlineData("slice: 1.5:20", "slice: GPU fraction must be above 0 and below 1, not 1.5")]
    [InlineData("slice: 1g.23gb", "slice: must be empty (whole GPUs), mig:<profile> (mig:1g.23gb) or <fraction>:<memory GB> (0.25:20), not '1g.23gb'")]
    [InlineData("slice: { profile: 1g.23gb }", "slice: unknown key 'profile' (a slice has: migProfile, gpuFraction, gpuMemoryGb)")]
    public void Submit_refuses_a_bad_slice_in_a_job_file_before_asking_the_server(string line, string problem)
    {
        var jobFile = TestFiles.Temp("bad-slice.yaml");
        File.WriteAllLines(jobFile, ["tenant: lab", "gpus: 1", "timeLimitSeconds: 1h", line]);
        // Refused before any server is asked: none listens there.
        var (code, _, err) = Gpufleet("submit", "--server", "http://127.0.0.1:1", "--file", jobFile);
        Assert.Equal(2, code);
        Assert.Contains($"--file: {jobFile}: {problem}", err);
        (code, _, err) = Gpufleet("submit", "--server", "http://127.0.0.1:1", "--gpus", "1", "--slice", "0:5");
        Assert.Equal(2, code);
        Assert.Contains("--slice: GPU fraction must be above 0 and below 1, not 0", err);
    }

    private static async Task<bool> Healthy(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    [Fact]
    public void Bench_api_reports_rate_and_latency_of_real_submissions()
    {
        var json = TestFiles.Temp("api.json");
        var (code, _, err) = Gpufleet("bench", "api", "--fleet", "fleets/korea-2026.yaml", "--tenants", "tenants/philly-vcs.yaml", "--seconds", "1", "--clients", "4", "--json", json);
        Assert.Equal(2, code);
        Assert.Contains("unknown GPU model", err);
        (code, _, err) = Gpufleet("bench", "api", "--seconds", "1", "--clients", "4", "--json", json, "--postgres", TestPostgres.NewDatabase());
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        foreach (var store in new[] { "sqlite", "postgres" })
        {
            var r = doc.RootElement.GetProperty(store);
            Assert.True(r.GetProperty("submitted").GetInt32() > 0, store);
            Assert.Equal(0, r.GetProperty("failed").GetInt32());
            foreach (var key in new[] { "submissionsPerSecond", "latencyMsP50", "latencyMsP99" })
                Assert.True(r.GetProperty(key).GetDouble() > 0, $"{store}.{key}");
        }
    }

    [Fact]
    public void Bench_api_in_rounds_reports_each_round_and_the_median_of_each_figure()
    {
        var json = TestFiles.Temp("rounds.json");
        var (code, _, err) = Gpufleet("bench", "api", "--rounds", "0", "--json", json);
        Assert.Equal(2, code);
        Assert.Contains("--rounds must be at least 1", err);
        (code, _, err) = Gpufleet("bench", "api", "--seconds", "0.5", "--warmup", "0", "--clients", "2", "--rounds", "3", "--json", json);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var rounds = doc.RootElement.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("sqlite")).ToList();
        Assert.Equal(3, rounds.Count);
        foreach (var key in new[] { "submitted", "submissionsPerSecond", "latencyMsP99" })
        {
            var values = rounds.Select(r => r.GetProperty(key).GetDouble()).Order().ToList();
            Assert.True(values[0] > 0, key);
            Assert.Equal(Math.Round(values[1], 2), doc.RootElement.GetProperty("sqlite").GetProperty(key).GetDouble());
        }
    }

    [Fact]
    public void Bench_cycle_reports_its_figures()
    {
        var json = TestFiles.Temp("bench.json");
        var (code, _, err) = Gpufleet("bench", "cycle", "--fleet", "fleets/korea-2026.yaml", "--pending", "2000", "--cycles", "5", "--json", json);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        foreach (var key in new[] { "cycleMsP50", "cycleMsP99", "peakMemoryMb" })
            Assert.True(doc.RootElement.GetProperty(key).GetDouble() > 0, key);
    }

    private const string NativeTraceHeader = "id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority";

    private static IEnumerable<string> ReadSample(int jobs)
    {
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(TestFiles.SampleTrace), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var lines = new List<string>();
        for (var i = 0; i <= jobs && reader.ReadLine() is { } line; i++) lines.Add(line);
        return lines;
    }
}
