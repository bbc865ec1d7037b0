using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;
using GpuFleet.Data;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;

namespace GpuFleet.Data.Tests;

[Trait("Category", "Unit")]
public sealed class DataFileTests
{
    private const string GoodFleet = """
        name: t
        models:
          - { name: G, memoryGb: 80, busyWatts: 700, idleWatts: 100, relativeSpeed: 1 }
        sites:
          - { name: s, owner: o, powerCapMw: 1, pue: 1.2 }
        pools:
          - { site: s, model: G, gpusPerNode: 8, domains: 2 }
        """;

    [Fact]
    public void A_site_that_takes_its_nodes_from_its_cluster_gets_the_nodes_the_cluster_lists()
    {
        var fleet = GoodFleet.Replace("pue: 1.2 }", "pue: 1.2 }\n  - { name: c, owner: o, powerCapMw: 1, pue: 1.2, executor: { kind: slurm, inventory: cluster, model: G } }");
        var asked = new List<string>();
        var loaded = FleetFile.Parse(new StringReader(fleet), "f.yaml", site =>
        {
            asked.Add(site.Name);
            return [new ClusterNode("n01", 8, null), new ClusterNode("n02", 8, "g"), new ClusterNode("n04", 4, null), new ClusterNode("login", 0, null)];
        });
        Assert.Equal(["c"], asked);
        Assert.Equal(16 + 20, loaded.TotalGpus);
        var site = loaded.SiteIndex("c");
        var nodes = Enumerable.Range(0, loaded.NodeCount).Where(n => loaded.PoolSite(loaded.NodePool(n)) == site).Select(n => (loaded.NodeName(n), loaded.NodeGpus(n))).ToList();
        Assert.Equal([("n01", 8), ("n02", 8), ("n04", 4)], nodes);
        // Without a way to ask the cluster (the twin), the site has only the file's pools: none here.
        Assert.Equal(16, FleetFile.Parse(new StringReader(fleet), "f.yaml").TotalGpus);
        // A cluster whose nodes the fleet cannot hold is an error naming the site's field.
        var e = Assert.Throws<DataFileException>(() => FleetFile.Parse(new StringReader(fleet.Replace(", model: G } }", " } }")), "f.yaml", _ => [new ClusterNode("n01", 8, "A100")]));
        Assert.Equal("sites[1].executor.inventory", e.Field);
        Assert.Contains("the cluster's GPU model 'A100' of node 'n01' is none of the fleet's models (G)", e.Problem);
    }

    [Fact]
    public void Shipped_fleets_load_with_their_sizes()
    {
        Assert.Equal(656, FleetFile.Load(TestFiles.Fleet("philly-contended.yaml")).TotalGpus);
        Assert.Equal(2_816, FleetFile.Load(TestFiles.Fleet("philly.yaml")).TotalGpus);
        Assert.InRange(FleetFile.Load(TestFiles.Fleet("korea-2026.yaml")).TotalGpus, 12_500, 13_500);
        var korea = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
        Assert.InRange(korea.TotalGpus, 255_000, 265_000);
        Assert.Equal(5, korea.Sites.Select(s => s.Owner).Distinct().Count());
    }

    [Theory]
    [InlineData("busyWatts: 700", "busyWatts: lots", 3, "models[0].busyWatts", "must be a number")]
    [InlineData("pue: 1.2", "pue: 0.5", 5, "sites[0].pue", "at least 1")]
    [InlineData("model: G,", "model: H100,", 7, "pools[0].model", "unknown GPU model 'H100'")]
    [InlineData("gpusPerNode: 8", "gpusPerNode: 65", 7, "pools[0].gpusPerNode", "at most 64")]
    [InlineData("powerCapMw: 1", "powerCapMW: 1", 5, "sites[0].powerCapMw", "found 'powerCapMW'")]
    [InlineData("name: t", "nam: t", 1, "name", "is required")]
    [InlineData("- { name: s, owner: o, powerCapMw: 1, pue: 1.2 }", "- { name: s, owner: o, powerCapMw: 1, pue: 1.2 }\n  - { name: s, owner: o, powerCapMw: 1, pue: 1.2 }", 6, "sites[1].name", "duplicate name 's'")]
    [InlineData("domains: 2 }", "domains: 2 ", 0, "yaml", "")]
    [InlineData("domains: 2 }", "domains: 2, nodeNames: \"gb{01}x\" }", 7, "pools[0].nodeNames", "must end with a counter")]
    [InlineData("domains: 2 }", "domains: 2, nodeNames: \"s-{01}\" }\n  - { site: s, model: G, gpusPerNode: 8, domains: 2, nodeNames: \"s-{02}\" }",
        8, "pools[1].nodeNames", "node name 's-02' is also given by pools[0]")]
    [InlineData("- { site: s, model: G, gpusPerNode: 8, domains: 2 }", "- site: s\n    model: G\n    gpusPerNode: 8\n    domains: 2\n    nodeNames: s-{x}",
        11, "pools[0].nodeNames", "must be digits")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: lsf } }", 5, "sites[0].executor.kind", "unknown executor 'lsf' (known: simulated, slurm, kubernetes, local)")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, logDirectory: /x } }", 5, "sites[0].executor.logDirectory", "unknown field")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, pollSeconds: 0 } }", 5, "sites[0].executor.pollSeconds", "at least 1")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, launchTimeoutSeconds: 3601 } }", 5, "sites[0].executor.launchTimeoutSeconds", "at most 3600")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, setAsideSeconds: 86401 } }", 5, "sites[0].executor.setAsideSeconds", "at most 86400")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: slurm }", 5, "sites[0].executor", "must be a mapping")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { partition: gpu } }", 5, "sites[0].executor.kind", "is required")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, restUrl: slurm-head:6820, token: t } }", 5, "sites[0].executor.restUrl", "must be an absolute http(s) URL")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, restUrl: /slurmrestd, token: t } }", 5, "sites[0].executor.restUrl", "must be an absolute http(s) URL")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, restUrl: \"ftp://head\", token: t } }", 5, "sites[0].executor.restUrl", "must be an absolute http(s) URL")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, restUrl: \"http://head:6820\", token: t, tokenFile: /f } }", 5, "sites[0].executor.tokenFile", "give token or tokenFile, not both")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, restUrl: \"http://head:6820\" } }", 5, "sites[0].executor.restUrl", "needs token or tokenFile")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, tokenFile: /f } }", 5, "sites[0].executor.tokenFile", "applies to slurmrestd only: give restUrl too")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, restUrl: \"http://head:6820\", token: t, toolDirectory: /usr/bin } }", 5, "sites[0].executor.toolDirectory", "applies to the command-line tools")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: kubernetes, restUrl: \"http://head:6820\" } }", 5, "sites[0].executor.restUrl", "unknown field")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, inventory: slurm } }", 5, "sites[0].executor.inventory", "must be file or cluster, not 'slurm'")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, model: G } }", 5, "sites[0].executor.model", "applies only with inventory: cluster")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, inventory: cluster, nodeOverheadWatts: -1 } }", 5, "sites[0].executor.nodeOverheadWatts", "at least 0")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { inventory: cluster } }", 5, "sites[0].executor.kind", "is required")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, spareNodes: 2 } }", 5, "sites[0].executor.spareNodes", "applies only with inventory: cluster")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, shardsPerGpu: 0 } }", 5, "sites[0].executor.shardsPerGpu", "at least 1")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: kubernetes, shardsPerGpu: 8 } }", 5, "sites[0].executor.shardsPerGpu", "unknown field")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, inventory: file, spareNodes: 2 } }", 5, "sites[0].executor.spareNodes", "applies only with inventory: cluster")]
    [InlineData("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, inventory: cluster, spareNodes: -1 } }", 5, "sites[0].executor.spareNodes", "at least 0")]
    [InlineData("name: t", "name: t\ninstallation: Prod", 2, "installation", "must start with a lowercase letter (a-z), not 'P'")]
    [InlineData("name: t", "name: t\ninstallation: 2nd", 2, "installation", "must start with a lowercase letter")]
    [InlineData("name: t", "name: t\ninstallation: prod_eu", 2, "installation", "'_' cannot be in an installation name")]
    [InlineData("name: t", "name: t\ninstallation: prod-", 2, "installation", "must end with a letter or digit")]
    [InlineData("name: t", "name: t\ninstallation: production-eu-west-1a", 2, "installation", "at most 20 characters, not 21")]
    [InlineData("name: t", "name: t\ninstallation: \"\"", 2, "installation", "non-empty text")]
    public void Bad_fleet_files_name_file_line_and_field(string from, string to, int line, string field, string problem)
    {
        var e = Assert.Throws<DataFileException>(() => FleetFile.Parse(new StringReader(GoodFleet.Replace(from, to)), "bad.yaml"));
        Assert.Equal("bad.yaml", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem);
        if (line > 0) Assert.Equal(line, e.Line);
        else Assert.True(e.Line > 0);
        Assert.StartsWith("bad.yaml:", e.Message);
    }

    [Fact]
    public void The_edge_fleet_is_the_national_fleet_with_its_edge_tier_after_it()
    {
        var national = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
        var edge = FleetFile.Load(TestFiles.Fleet("korea-2030-edge.yaml"));
        Assert.Equal("korea-2030-edge", edge.Name);
        Assert.Equal(national.Sites.Select(s => s.Name), edge.Sites.Take(national.Sites.Count).Select(s => s.Name));
        Assert.Equal(national.PoolSpecs, edge.PoolSpecs.Take(national.PoolSpecs.Count));
        Assert.Equal(national.Links, edge.Links.Take(national.Links.Count));
        // Twelve dedicated sites of one 4-GPU server each.
        Assert.Equal(12, edge.Sites.Count - national.Sites.Count);
        Assert.All(edge.Sites.Skip(national.Sites.Count), s => Assert.True(s.Dedicated));
        Assert.Equal(national.TotalGpus + 12 * 4, edge.TotalGpus);
    }

    private static string Extending(string body, string baseText = GoodFleet)
    {
        var dir = TestFiles.Temp($"extends-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "base.yaml"), baseText);
        var path = Path.Combine(dir, "variant.yaml");
        File.WriteAllText(path, body);
        return path;
    }

    [Fact]
    public void A_fleet_that_extends_another_adds_its_sites_pools_and_links_and_keeps_the_installation()
    {
        var path = Extending("""
            extends: base.yaml
            name: v
            sites:
              - { name: e, owner: o, powerCapMw: 1 }
            pools:
              - { site: e, model: G, gpusPerNode: 4, domains: 1 }
            links:
              - { from: s, to: e, gbps: 10, latencyMs: 2 }
            """, GoodFleet.Replace("name: t", "name: t\ninstallation: prod"));
        var fleet = FleetFile.Load(path);
        Assert.Equal(("v", "prod", 20), (fleet.Name, fleet.Installation, fleet.TotalGpus));
        Assert.Equal(["s", "e"], fleet.Sites.Select(s => s.Name));
        Assert.Equal(2, fleet.SiteLatencyMs(0, 1));
        // A staging variant of a production fleet names its own installation.
        var staging = Extending("extends: base.yaml\nname: v\ninstallation: staging\n", GoodFleet.Replace("name: t", "name: t\ninstallation: prod"));
        Assert.Equal("staging", FleetFile.Load(staging).Installation);
    }

    [Fact]
    public void A_fleet_that_extends_another_is_told_its_own_mistakes_at_its_own_lines()
    {
        // A pool of a site neither file has: the extending file's pools[0], on its line 3.
        var e = Assert.Throws<DataFileException>(() => FleetFile.Load(Extending("extends: base.yaml\nname: v\npools:\n  - { site: nowhere, model: G, gpusPerNode: 4, domains: 1 }\n")));
        Assert.Equal((Path.GetFileName(e.File), "pools[0].site", 4L), ("variant.yaml", e.Field, e.Line));
        Assert.Contains("unknown site 'nowhere'", e.Problem);
        // A site the base has already.
        e = Assert.Throws<DataFileException>(() => FleetFile.Load(Extending("extends: base.yaml\nname: v\nsites:\n  - { name: s, owner: o, powerCapMw: 1 }\n")));
        Assert.Equal(("variant.yaml", "sites[0]"), (Path.GetFileName(e.File), e.Field.Split('.')[0]));
        Assert.Contains("duplicate", e.Problem);
        // A base that is not there, and one that leads back to the file.
        e = Assert.Throws<DataFileException>(() => FleetFile.Load(Extending("extends: missing.yaml\nname: v\n")));
        Assert.Equal(("extends", 1L), (e.Field, e.Line));
        Assert.Contains("'missing.yaml' not found", e.Problem);
        e = Assert.Throws<DataFileException>(() => FleetFile.Load(Extending("extends: base.yaml\nname: v\n", "extends: variant.yaml\nname: b\n")));
        Assert.Contains("leads back to this file", e.Problem);
        // A field the base does not know is refused in the base, naming it.
        e = Assert.Throws<DataFileException>(() => FleetFile.Load(Extending("extends: base.yaml\nname: v\n", GoodFleet + "\npowerCapMW: 3\n")));
        Assert.Equal(("base.yaml", "powerCapMW"), (Path.GetFileName(e.File), e.Field));
    }

    [Fact]
    public void A_fleet_file_may_name_the_installation_whose_runs_go_to_its_clusters()
    {
        Assert.Null(FleetFile.Parse(new StringReader(GoodFleet), "f.yaml").Installation);
        Assert.Equal("prod-2", FleetFile.Parse(new StringReader(GoodFleet.Replace("name: t", "name: t\ninstallation: prod-2")), "f.yaml").Installation);
        // The core refuses a bad name too, naming the field.
        var e = Assert.Throws<FleetValidationException>(() => new Fleet("t", [new GpuModel("G", 80, 700, 100, 1)], [new Site("s", "o", "r", 1, 1.2)], [new GpuPoolSpec("s", "G", 8, 1, 1, 0)]) { Installation = "gpufleet.io" });
        Assert.Equal("installation", e.Field);
    }

    [Fact]
    public void Fleet_files_name_nodes_by_pattern_or_by_site_and_model()
    {
        var fleet = FleetFile.Parse(new StringReader(GoodFleet.Replace("domains: 2 }", "domains: 2, nodeNames: \"rack7-{site}-{01}\" }")), "f.yaml");
        Assert.Equal(["rack7-s-01", "rack7-s-02"], Enumerable.Range(0, fleet.NodeCount).Select(fleet.NodeName));
        var korea = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
        Assert.Equal("national-sejong-gb200-0001", korea.NodeName(0));
        Assert.Equal("naver-chuncheon-rtxpro6000-2500", korea.NodeName(korea.NodeCount - 1));
    }

    [Fact]
    public void A_site_names_its_executor_and_its_settings_and_is_simulated_without_one()
    {
        var fleet = FleetFile.Parse(new StringReader(GoodFleet.Replace("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, partition: gpu, pollSeconds: 3 } }")), "f.yaml");
        var executor = fleet.Sites[0].Executor;
        Assert.Equal("slurm", executor.Kind);
        Assert.False(executor.IsSimulated);
        Assert.Equal("gpu", executor.Setting("partition"));
        Assert.Equal(3, executor.Seconds("pollSeconds", 2));
        Assert.Equal(30, executor.Seconds("checkpointGraceSeconds", 30));
        // A day's set-aside is allowed (a cluster's reservation may last that long); other settings stop at an hour.
        Assert.Equal(86_400, FleetFile.Parse(new StringReader(GoodFleet.Replace("pue: 1.2 }", "pue: 1.2, executor: { kind: slurm, setAsideSeconds: 86400 } }")), "f.yaml")
            .Sites[0].Executor.Seconds("setAsideSeconds", 0));
        Assert.True(FleetFile.Parse(new StringReader(GoodFleet), "f.yaml").Sites[0].Executor.IsSimulated);
        var rest = FleetFile.Parse(new StringReader(GoodFleet.Replace("pue: 1.2 }",
            "pue: 1.2, executor: { kind: slurm, restUrl: \"http://head:6820\", user: root, tokenFile: /etc/jwt } }")), "f.yaml").Sites[0].Executor;
        Assert.Equal(("http://head:6820", "root", "/etc/jwt", null), (rest.Setting("restUrl"), rest.Setting("user"), rest.Setting("tokenFile"), rest.Setting("token")));
    }

    [Fact]
    public void Missing_fleet_file_is_a_clear_error() =>
        Assert.Contains("not found", Assert.Throws<DataFileException>(() => FleetFile.Load("/nonexistent/fleet.yaml")).Message);

    [Fact]
    public void Philly_sample_reads_sorted_with_tenants_and_limits()
    {
        var jobs = TraceFile.Load(TestFiles.SampleTrace);
        Assert.Equal(47_192, jobs.Count);
        Assert.Equal(0, jobs[0].Spec.SubmitTime);
        Assert.True(jobs.Zip(jobs.Skip(1)).All(p => p.First.Spec.SubmitTime <= p.Second.Spec.SubmitTime));
        Assert.All(jobs, j => Assert.True(j.Spec.TimeLimitSeconds >= j.RuntimeSeconds));
        Assert.Contains(jobs, j => j.Spec.Tenant == "vc-6214e9");
    }

    [Fact]
    public void Native_trace_round_trips()
    {
        var jobs = TraceFile.Load(TestFiles.SampleTrace).Take(500).ToList();
        var path = TestFiles.Temp("t.csv");
        using (var w = new StreamWriter(path)) NativeTrace.Write(w, jobs);
        var back = TraceFile.Load(path);
        Assert.Equal(jobs.Count, back.Count);
        Assert.Equal(jobs.Select(j => (j.Spec.Id, j.Spec.Gpus, j.Spec.SubmitTime, j.RuntimeSeconds, j.Spec.Tenant)),
            back.Select(j => (j.Spec.Id, j.Spec.Gpus, j.Spec.SubmitTime, j.RuntimeSeconds, j.Spec.Tenant)));
    }

    [Fact]
    public void Native_trace_keeps_class_sites_data_and_checkpoints_and_reads_files_without_them()
    {
        var spec = new JobSpec(7, "t", 64, ["B200"], TopologyNeed.Site, 7200, 0, 10)
        {
            PriorityClass = "preemptible", Site = "s1", DataSite = "s2", DataGb = 512.5, CheckpointIntervalSeconds = 1800,
        };
        var path = TestFiles.Temp("t.csv");
        using (var w = new StreamWriter(path))
            NativeTrace.Write(w, [new TraceJob(spec, 3600) { CancelAtSeconds = 4000 }, new TraceJob(new JobSpec(8, "u", 1, [], TopologyNeed.Node, 60, 1, 20), 30)]);
        var back = TraceFile.Load(path);
        Assert.Equal(4000, back[0].CancelAtSeconds);
        Assert.Null(back[1].CancelAtSeconds);
        Assert.Equal(spec, back[0].Spec with { Models = spec.Models });
        Assert.Equal(["B200"], back[0].Spec.Models);
        Assert.Null(back[1].Spec.PriorityClass);
        Assert.Equal(0, back[1].Spec.CheckpointIntervalSeconds);

        // A file with the nine required columns only still reads.
        File.WriteAllText(path, NativeTrace.Header + "\n1,0,a,2,,site,10,5,0\n");
        Assert.Equal(0, TraceFile.Load(path)[0].Spec.CheckpointIntervalSeconds);
    }

    [Theory]
    [InlineData("timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-01 00:00:00,10,1,10,aa\n2017-10-01 00:00:01,ten,1,10,aa\n", 3, "duration")]
    [InlineData("timestamp,duration,num_gpus,gpu_time,cluster\n2017-13-01 00:00:00,10,1,10,aa\n", 2, "timestamp")]
    [InlineData("timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-01 00:00:00,10,0,10,aa\n", 2, "num_gpus")]
    [InlineData("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority\n1,0,a,1,,rack,10,5,0\n", 2, "topology")]
    [InlineData("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority\n1,0,a,1,,site,10,5,0\n1,0,a,1,,site,10,5,0\n", 3, "id")]
    [InlineData("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority\n1,0,a,1\n", 2, "row")]
    [InlineData("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority,checkpointSeconds\n1,0,a,1,,site,10,5,0,often\n", 2, "checkpointSeconds")]
    // A fraction was cut to whole seconds (0.5: "never checkpoints"); the API refuses it, and so does the reader.
    [InlineData("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority,checkpointSeconds\n1,0,a,1,,site,10,5,0,0.5\n", 2, "checkpointSeconds")]
    [InlineData("id,submitSeconds,tenant,gpus,models,topology,timeLimitSeconds,runtimeSeconds,priority,cancelSeconds\n1,50,a,1,,site,10,5,0,40\n", 2, "cancelSeconds")]
    [InlineData("what,is,this\n1,2,3\n", 1, "header")]
    public void Bad_trace_files_name_file_line_and_field(string text, int line, string field)
    {
        var path = TestFiles.Temp("bad.csv");
        File.WriteAllText(path, text);
        var e = Assert.Throws<DataFileException>(() => TraceFile.Load(path));
        Assert.Equal(field, e.Field);
        Assert.Equal(line, e.Line);
        Assert.Equal(path, e.File);
    }
}
