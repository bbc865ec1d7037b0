using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GpuFleet.Core.Scheduling;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Tenancy;
using GpuFleet.Data.Traces;
using GpuFleet.Server.Twin;
using GpuFleet.Simulation.Engine;
using GpuFleet.Simulation.Reports;
using GpuFleet.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Server.Tests;

/// <summary>
/// Twin runs through <c>/api/v1/twin</c>: the report is what <c>simulate</c> writes; the queue's limits, progress
/// and visibility; every bad input a 400 naming its field; uploads bounded and read by the trace readers;
/// finished runs kept for a while only. Runs the test must hold use <see cref="GatedTwinRunner"/>.
/// </summary>
[Trait("Category", "Server")]
public sealed class TwinRunTests
{
    private static readonly Regex WallSeconds = new("\"wallSeconds\": [0-9.E+-]+");

    private static readonly object Sample = new { fleet = "philly", policies = new[] { "fifo" }, trace = "philly-2017-10" };

    private static Task<RunningServer> StartAsync(GatedTwinRunner? gate = null, Func<TwinSettings, TwinSettings>? twin = null) =>
        RunningServer.StartAsync(
            adjust: s => s with { Twin = (twin ?? (t => t))(new TwinSettings { Directory = TestFiles.Root }) },
            services: gate is null ? null : services => services.AddSingleton<TwinRunner>(gate.Run));

    [Fact]
    public async Task A_run_of_the_sample_reports_what_simulate_writes_for_the_same_inputs_with_its_charts()
    {
        await using var server = await StartAsync();
        using var response = await server.Client.PostAsJsonAsync("/api/v1/twin/runs",
            new { fleet = "philly-contended", tenants = "philly-vcs", policies = new[] { "backfill", "shared" }, source = "sample", trace = "philly-2017-10" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/twin/runs/{id}", response.Headers.Location!.ToString());
        var run = await EndedAsync(server.Client, id);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(1.0, run.GetProperty("progress").GetDouble());

        // What `gpufleet simulate --fleet fleets/philly-contended.yaml --tenants tenants/philly-vcs.yaml
        // --trace traces/philly-2017-10.csv.gz --policy backfill,shared --json` writes (the CLI writes it with
        // the same PolicyReportJson; the CLI tests run the program itself against a server).
        var fleet = FleetFile.Load(TestFiles.Fleet("philly-contended.yaml"));
        var tree = TenantFile.Load(TestFiles.Tenants("philly-vcs.yaml"), fleet);
        var jobs = TraceFile.Load(TestFiles.SampleTrace);
        var expected = PolicyReportJson.Write([.. new[] { SchedulingPolicy.EasyBackfill, SchedulingPolicy.Shared }.Select(p =>
            (Simulator.Run(fleet, jobs, new SchedulerOptions { Policy = p, Tenants = tree }, new SimulationOptions { TraceName = "philly-2017-10.csv.gz" }), 0.0))]);
        var report = await server.Client.GetStringAsync(run.GetProperty("report").GetString());
        Assert.Equal(WallSeconds.Replace(expected, "\"wallSeconds\": 0"), WallSeconds.Replace(report, "\"wallSeconds\": 0"));

        var charts = run.GetProperty("charts").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.Equal(["utilization.svg", "wait-cdf.svg", "tenant-share.svg", "power.svg"], charts.Select(c => c.Split('/')[^1]));
        foreach (var chart in charts)
        {
            using var svg = await server.Client.GetAsync(chart);
            Assert.Equal(HttpStatusCode.OK, svg.StatusCode);
            Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
            Assert.Contains("<svg", await svg.Content.ReadAsStringAsync());
        }
        // The per-tenant chart names the tree's tenants.
        Assert.Contains("vc-", await server.Client.GetStringAsync(charts[2]));
        using var none = await server.Client.GetAsync($"/api/v1/twin/runs/{id}/charts/queue.svg");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Empty(server.Errors.Entries);
    }

    [Fact]
    public async Task The_queue_holds_so_many_runs_per_token_and_in_all_runs_one_at_a_time_and_a_cancel_frees_a_place()
    {
        var gate = new GatedTwinRunner();
        await using var server = await StartAsync(gate, t => t with { MaxActiveRuns = 3, MaxActiveRunsPerToken = 2 });
        using var a = server.ClientWith(await server.MintAsync("member", "a"));
        using var b = server.ClientWith(await server.MintAsync("member", "b"));
        var first = await StartedAsync(a, Sample);
        Assert.True(await gate.StartedAsync(), "the worker did not take the first run");
        var second = await StartedAsync(a, Sample);

        // One worker: the first runs (and reports its progress), the second waits, next in line.
        var running = await a.GetFromJsonAsync<JsonElement>($"/api/v1/twin/runs/{first}");
        Assert.Equal("running", running.GetProperty("state").GetString());
        Assert.Equal(0.5, running.GetProperty("progress").GetDouble());
        Assert.Equal("halfway", running.GetProperty("stage").GetString());
        var waiting = await a.GetFromJsonAsync<JsonElement>($"/api/v1/twin/runs/{second}");
        Assert.Equal("queued", waiting.GetProperty("state").GetString());
        Assert.Equal(1, waiting.GetProperty("position").GetInt32());

        // Two for a's token is its most.
        using (var third = await a.PostAsJsonAsync("/api/v1/twin/runs", Sample))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.NotNull(third.Headers.RetryAfter);
            Assert.Contains("the most one token may have", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }
        // Three in all is the server's.
        await StartedAsync(b, Sample);
        using (var fourth = await server.Client.PostAsJsonAsync("/api/v1/twin/runs", Sample))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
            Assert.Contains("the most it takes at once", (await fourth.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }

        // Cancelling the queued run frees a's place; it never runs.
        using (var cancel = await a.DeleteAsync($"/api/v1/twin/runs/{second}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("cancelled", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        }
        var again = await StartedAsync(a, Sample);
        // The running one stops when cancelled; a cancelled run cannot be cancelled again.
        using (var cancel = await a.DeleteAsync($"/api/v1/twin/runs/{first}"))
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        using (var twice = await a.DeleteAsync($"/api/v1/twin/runs/{first}"))
            Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        // The next in line is b's (the cancelled one skipped), then a's last.
        Assert.True(await gate.StartedAsync(), "the worker did not go on after a cancel");
        gate.FinishOne();
        Assert.True(await gate.StartedAsync(), "the worker did not take a's last run");
        gate.FinishOne();
        Assert.Equal("succeeded", (await EndedAsync(a, again)).GetProperty("state").GetString());
        Assert.Equal("cancelled", (await EndedAsync(a, second)).GetProperty("state").GetString());
        using var report = await a.GetAsync($"/api/v1/twin/runs/{second}/report");
        Assert.Equal(HttpStatusCode.Conflict, report.StatusCode);

        // Each start and cancel is in the audit log with the status its caller got.
        var audit = await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=100");
        var entries = audit.EnumerateArray().Select(e => (Method: e.GetProperty("method").GetString(), Path: e.GetProperty("path").GetString(), Status: e.GetProperty("status").GetInt32())).ToList();
        Assert.Contains(("POST", "/api/v1/twin/runs", 202), entries);
        Assert.Contains(("DELETE", $"/api/v1/twin/runs/{second}", 200), entries);
    }

    [Fact]
    public async Task A_run_is_seen_by_its_tenant_and_admins_only_and_a_viewer_looks_but_cannot_start_or_cancel()
    {
        var gate = new GatedTwinRunner();
        await using var server = await StartAsync(gate);
        using var a = server.ClientWith(await server.MintAsync("member", "a"));
        using var aViewer = server.ClientWith(await server.MintAsync("viewer", "a"));
        using var b = server.ClientWith(await server.MintAsync("tenant-admin", "b"));
        var id = await StartedAsync(a, Sample);

        foreach (var path in new[] { $"/api/v1/twin/runs/{id}", $"/api/v1/twin/runs/{id}/report", $"/api/v1/twin/runs/{id}/charts/power.svg" })
        {
            using var hidden = await b.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }
        Assert.Equal(0, (await b.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).GetArrayLength());
        using (var cancel = await b.DeleteAsync($"/api/v1/twin/runs/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);

        var seen = await aViewer.GetFromJsonAsync<JsonElement>($"/api/v1/twin/runs/{id}");
        Assert.Equal("a", seen.GetProperty("tenant").GetString());
        using (var cancel = await aViewer.DeleteAsync($"/api/v1/twin/runs/{id}"))
            Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        using (var start = await aViewer.PostAsJsonAsync("/api/v1/twin/runs", Sample))
            Assert.Equal(HttpStatusCode.Forbidden, start.StatusCode);
        Assert.Contains(id, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        // An admin's run is the admins' alone.
        var admins = await StartedAsync(server.Client, Sample);
        using (var hidden = await a.GetAsync($"/api/v1/twin/runs/{admins}"))
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        // Nobody is told anything of an id that was never a run's.
        using var unknown = await server.Client.GetAsync("/api/v1/twin/runs/0123456789abcdef");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Theory]
    [InlineData("""{"fleet":"nowhere","policies":["fifo"],"trace":"philly-2017-10"}""", "fleet", "unknown fleet 'nowhere'")]
    [InlineData("""{"policies":["fifo"],"trace":"philly-2017-10"}""", "fleet", "is required")]
    [InlineData("""{"fleet":"philly","tenants":"nobody","policies":["fifo"],"trace":"philly-2017-10"}""", "tenants", "unknown tenant tree 'nobody'")]
    [InlineData("""{"fleet":"philly","tenants":"korea-2030","policies":["fifo"],"trace":"philly-2017-10"}""", "tenants", "does not fit fleet 'philly'")]
    [InlineData("""{"fleet":"philly","policies":[],"trace":"philly-2017-10"}""", "policies", "choose at least one policy")]
    [InlineData("""{"fleet":"philly","policies":["fifo","lottery"],"trace":"philly-2017-10"}""", "policies", "unknown policy 'lottery'")]
    [InlineData("""{"fleet":"philly","policies":["shared"],"trace":"philly-2017-10"}""", "policies", "'shared' needs a tenant tree")]
    [InlineData("""{"fleet":"philly","policies":["fifo"],"source":"ftp"}""", "source", "must be sample, upload or generate")]
    [InlineData("""{"fleet":"philly","policies":["fifo"],"trace":"philly-2099"}""", "trace", "unknown sample trace 'philly-2099'")]
    [InlineData("""{"fleet":"philly","policies":["fifo"],"source":"upload"}""", "traceFile", "choose a trace file")]
    [InlineData("""{"fleet":"philly","policies":["fifo"],"source":"generate","load":0.9}""", "days", "above 0 and at most 365")]
    [InlineData("""{"fleet":"philly","policies":["fifo"],"source":"generate","days":7,"load":-1}""", "load", "above 0 and at most 10")]
    [InlineData("""{"fleet":"korea-2030","policies":["fifo"],"source":"generate","days":365,"load":10}""", "load", "a twin run takes at most 500,000")]
    [InlineData("""{"fleet":"philly","policies":["fifo"],"source":"generate","days":7,"load":0.9,"seed":"one"}""", "seed", "must be a whole number")]
    [InlineData("""{"fleet":"philly","policy":["fifo"]}""", "policy", "is not a field of this request")]
    public async Task A_bad_input_is_a_400_naming_its_field(string body, string field, string problem)
    {
        var gate = new GatedTwinRunner();
        await using var server = await StartAsync(gate);
        using var response = await server.PostRawAsync("/api/v1/twin/runs", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"no problem with {field}: {errors}");
        Assert.Contains(problem, messages[0].GetString());
        Assert.Equal(0, (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).GetArrayLength());
    }

    [Fact]
    public async Task An_upload_is_read_by_the_trace_readers_within_its_bounds_and_its_name_is_the_reports_trace()
    {
        await using var server = await StartAsync(twin: t => t with { MaxUploadBytes = 16 * 1024, MaxJobs = 150 });
        var header = NativeTrace.Header;
        var rows = Enumerable.Range(1, 120).Select(i => $"{i},{i * 60},team-{i % 3},{1 + i % 4},,site,7200,{600 + i},0");
        var good = Gzip(string.Join('\n', rows.Prepend(header)) + "\n");

        // A gzip file of native rows: read, run, and named in the report as the user named it.
        using (var form = Form("my-jobs.csv.gz", good))
        using (var response = await server.Client.PostAsync("/api/v1/twin/runs", form))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            var run = await EndedAsync(server.Client, id);
            Assert.Equal("succeeded", run.GetProperty("state").GetString());
            Assert.Equal("my-jobs.csv.gz", run.GetProperty("trace").GetString());
            var report = await server.Client.GetFromJsonAsync<JsonElement>($"/api/v1/twin/runs/{id}/report");
            Assert.Equal("my-jobs.csv.gz", report.GetProperty("fifo").GetProperty("trace").GetString());
            Assert.Equal(120, report.GetProperty("backfill").GetProperty("jobs").GetInt32());
        }
        // A bad row: the reader's own words, naming the user's file and its line.
        await RefusedAsync(server, Form("bad.csv", Encoding.UTF8.GetBytes($"{header}\n1,0,a,eight,,site,100,50,0\n")), "bad.csv:2: gpus: must be a whole number, not 'eight'");
        await RefusedAsync(server, Form("notes.txt", "just some text\n"u8.ToArray()), "notes.txt:1: header: unknown trace format");
        await RefusedAsync(server, Form("empty.csv", Encoding.UTF8.GetBytes(header + "\n")), "empty.csv holds no jobs");
        // Over the size limit, over the job limit (counted as it unpacks).
        await RefusedAsync(server, Form("big.csv", new byte[20 * 1024]), "a trace file may be at most 16 KB");
        var many = Gzip(string.Join('\n', Enumerable.Range(1, 400).Select(i => $"{i},{i},t,1,,site,100,50,0").Prepend(header)) + "\n");
        await RefusedAsync(server, Form("many.csv.gz", many), "has more than 150 jobs");
        await RefusedAsync(server, Form("broken.csv.gz", [0x1f, 0x8b, 1, 2, 3, 4, 5]), "cannot be unpacked");
        // Rows ended by a bare carriage return are rows too, counted as the reader reads them.
        var crOnly = Gzip(string.Join('\r', Enumerable.Range(1, 400).Select(i => $"{i},{i},t,1,,site,100,50,0").Prepend(header)) + "\r");
        await RefusedAsync(server, Form("mac.csv.gz", crOnly), "has more than 150 jobs");
        // Simulated time is bounded as jobs are: submissions over more than 366 days, or a job that asks for more.
        await RefusedAsync(server, Form("long.csv", Encoding.UTF8.GetBytes($"{header}\n1,0,a,1,,site,100,50,0\n2,{400 * 86_400},a,1,,site,100,50,0\n")),
            "long.csv: its jobs are submitted over more than 366 days");
        await RefusedAsync(server, Form("limit.csv", Encoding.UTF8.GetBytes($"{header}\n1,0,a,1,,site,{400 * 86_400},50,0\n")),
            "limit.csv: job 1 asks for or runs more than 366 days");
        // A form cut short is the sender's mistake: 400, not a server error.
        using (var cut = new StringContent("--XYZ\r\nContent-Disposition: form-data; name=\"fleet\"\r\n\r\nphilly\r\n--XY"))
        {
            cut.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=XYZ");
            using var response = await server.Client.PostAsync("/api/v1/twin/runs", cut);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        using (var browser = server.ClientWith(null))
        using (var cut = new StringContent("--XYZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nx\r\n--XY"))
        {
            cut.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=XYZ");
            using var response = await browser.PostAsync("/signin", cut);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        // A field the form does not have is named too, and a number that is not one.
        using (var extra = Form("ok.csv.gz", good))
        {
            extra.Add(new StringContent("7"), "gpus");
            extra.Add(new StringContent("lots"), "days");
            using var response = await server.Client.PostAsync("/api/v1/twin/runs", extra);
            var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
            Assert.Contains("is not a field", errors.GetProperty("gpus")[0].GetString());
            Assert.Contains("must be a number", errors.GetProperty("days")[0].GetString());
        }
        // A body past the upload limit and the form's room is refused before it is read. The client waits for the
        // server's go-ahead (Expect: 100-continue) before sending it: otherwise the refusal and the connection's close
        // may come while it still sends, and it reports a broken pipe instead of the answer.
        using (var huge = new HttpRequestMessage(HttpMethod.Post, "/api/v1/twin/runs") { Content = Form("huge.csv", new byte[16 * 1024 + (1 << 20) + 1]) })
        {
            huge.Headers.ExpectContinue = true;
            using var response = await server.Client.SendAsync(huge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }
        // The Twin page's form gets a page in words rather than a problem document.
        using (var browser = server.ClientWith(null))
        using (var huge = new HttpRequestMessage(HttpMethod.Post, "/twin/runs") { Content = Form("huge.csv", new byte[16 * 1024 + (1 << 20) + 1]) })
        {
            huge.Headers.ExpectContinue = true;
            using var response = await browser.SendAsync(huge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains("Back to the Twin page", await response.Content.ReadAsStringAsync());
        }
        Assert.Single((await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).EnumerateArray());
    }

    [Fact]
    public async Task A_tenant_has_so_many_runs_whatever_its_tokens_and_a_caller_at_a_limit_is_refused_before_its_upload_is_read()
    {
        var gate = new GatedTwinRunner();
        await using var server = await StartAsync(gate, t => t with { MaxActiveRuns = 8, MaxActiveRunsPerToken = 1, MaxActiveRunsPerTenant = 2 });
        var a = new List<HttpClient>();
        for (var i = 0; i < 3; i++) a.Add(server.ClientWith(await server.MintAsync("member", "a")));
        using var b = server.ClientWith(await server.MintAsync("member", "b"));
        await StartedAsync(a[0], Sample);
        await StartedAsync(a[1], Sample);
        using (var third = await a[2].PostAsJsonAsync("/api/v1/twin/runs", Sample))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.Contains("the most one tenant may have", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }
        await StartedAsync(b, Sample);
        // a's first token is at its limit: an upload it sends is refused as such, unread (a file that is no trace would be a 400 if read).
        using (var form = Form("not-a-trace.csv", "just text\n"u8.ToArray()))
        using (var response = await a[0].PostAsync("/api/v1/twin/runs", form))
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        foreach (var c in a) c.Dispose();
    }

    [Fact]
    public async Task Finished_runs_are_kept_for_a_while_and_at_most_so_many()
    {
        var gate = new GatedTwinRunner();
        await using var server = await StartAsync(gate, t => t with { MaxFinishedRuns = 2, KeepFinishedFor = TimeSpan.FromHours(1) });
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await StartedAsync(server.Client, Sample));
            Assert.True(await gate.StartedAsync(), "the worker did not take the run");
            gate.FinishOne();
            await EndedAsync(server.Client, ids[^1]);
            server.Clock.Advance(TimeSpan.FromMinutes(1));
        }
        // The oldest of three went; two are kept.
        using (var gone = await server.Client.GetAsync($"/api/v1/twin/runs/{ids[0]}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(ids.Skip(1).Reverse(), (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        // An hour after it ended, a run is forgotten.
        server.Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal([ids[2]], (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/twin/runs")).EnumerateArray().Select(r => r.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task The_inputs_list_the_files_policies_and_limits_to_choose_from()
    {
        await using var server = await StartAsync(new GatedTwinRunner());
        var inputs = await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/twin/inputs");
        Assert.Contains("philly-contended", inputs.GetProperty("fleets").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains("philly-vcs", inputs.GetProperty("tenants").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(["philly-2017-10"], inputs.GetProperty("traces").EnumerateArray().Select(f => f.GetString()));
        Assert.True(inputs.GetProperty("policies").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "static").GetProperty("needsTenants").GetBoolean());
        Assert.Equal(20 * 1024 * 1024, inputs.GetProperty("limits").GetProperty("maxUploadBytes").GetInt64());
        // Without a token, nothing.
        using var anonymous = server.ClientWith(null);
        using var refused = await anonymous.GetAsync("/api/v1/twin/inputs");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static async Task<string> StartedAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/twin/runs", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    // The run once it has ended (a bound of two minutes on a simulation that takes seconds, not a timing).
    private static async Task<JsonElement> EndedAsync(HttpClient client, string id)
    {
        for (var deadline = DateTime.UtcNow.AddMinutes(2); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/v1/twin/runs/{id}");
            if (run.GetProperty("state").GetString() is not ("queued" or "running")) return run;
        }
        Assert.Fail($"twin run {id} did not end");
        return default;
    }

    private static async Task RefusedAsync(RunningServer server, MultipartFormDataContent form, string problem)
    {
        using (form)
        using (var response = await server.Client.PostAsync("/api/v1/twin/runs", form))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var message = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("traceFile")[0].GetString();
            Assert.Contains(problem, message);
        }
    }

    private static MultipartFormDataContent Form(string fileName, byte[] file)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("philly"), "fleet" },
            { new StringContent("fifo,backfill"), "policies" },
            { new StringContent("upload"), "source" },
        };
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, TwinValidator.UploadField, fileName);
        return form;
    }

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }
}
