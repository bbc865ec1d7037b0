using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;
using GpuFleet.Data;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Traces;

namespace GpuFleet.Data.Tests;

/// <summary>
/// Nodes' CPUs and memory, GPU sharing (MIG profiles, time-sharing) and link latency in fleet files; CPU,
/// memory and slices of jobs in native traces.
/// </summary>
[Trait("Category", "Unit")]
public sealed class JobResourceFileTests
{
    // Block style for the first model, so that each of its fields has its own line (line 15 is the first profile's placements).
    private const string SharedFleet = """
        name: shared
        models:
          - name: G
            memoryGb: 80
            busyWatts: 700
            idleWatts: 100
            relativeSpeed: 1
            sharing:
              source: "test geometry"
              migProfiles:
                - name: 1g.10gb
                  computeSlices: 1
                  memorySlices: 1
                  memoryGb: 10
                  placements: [0, 1, 2, 3, 4, 5, 6]
                - { name: 3g.40gb, computeSlices: 3, memorySlices: 4, memoryGb: 40, placements: [0, 4] }
          - { name: T, memoryGb: 48, busyWatts: 300, idleWatts: 30, relativeSpeed: 0.5, sharing: { timeSharing: true, reconfigureSeconds: 2m } }
          - { name: W, memoryGb: 80, busyWatts: 700, idleWatts: 100, relativeSpeed: 1 }
        sites:
          - { name: s, owner: o, powerCapMw: 1, pue: 1.2 }
          - { name: u, owner: o, powerCapMw: 1, pue: 1.2 }
        pools:
          - { site: s, model: G, gpusPerNode: 8, domains: 2, cpusPerNode: 112, memoryGbPerNode: 2048 }
          - { site: u, model: T, gpusPerNode: 4, domains: 1 }
        links:
          - { from: s, to: u, gbps: 100, latencyMs: 2.5 }
          - { from: u, to: s, gbps: 100 }
        """;

    private static Fleet Parse(string text) => FleetFile.Parse(new StringReader(text), "f.yaml");

    [Fact]
    public void A_fleet_file_gives_nodes_cpus_and_memory_models_their_sharing_and_links_their_latency()
    {
        var fleet = Parse(SharedFleet);
        Assert.Equal((112, 2048), (fleet.PoolSpecs[0].CpusPerNode, fleet.PoolSpecs[0].MemoryGbPerNode));
        Assert.Equal((0, 0), (fleet.PoolSpecs[1].CpusPerNode, fleet.PoolSpecs[1].MemoryGbPerNode));
        Assert.Equal(112, fleet.NodeCpus(0));
        Assert.Equal([2.5, 0], fleet.Links.Select(l => l.LatencyMs));

        var mig = fleet.Models[0].Sharing!;
        Assert.Equal((7, 8, false, 60L, "test geometry"), (mig.ComputeSlices, mig.MemorySlices, mig.TimeSharing, mig.ReconfigureSeconds, mig.Source));
        Assert.Equal(["1g.10gb", "3g.40gb"], mig.MigProfiles.Select(p => p.Name));
        var big = mig.Profile("3g.40gb")!;
        Assert.Equal((3, 4, 40.0), (big.ComputeSlices, big.MemorySlices, big.MemoryGb));
        Assert.Equal([0, 4], big.Placements);
        Assert.Equal(7, mig.MostOf(mig.Profile("1g.10gb")!));
        Assert.Equal(2, mig.MostOf(big));

        var shared = fleet.Models[1].Sharing!;
        Assert.Equal((true, 120L, 0), (shared.TimeSharing, shared.ReconfigureSeconds, shared.MigProfiles.Count));
        Assert.Null(fleet.Models[2].Sharing);
    }

    [Theory]
    [InlineData("cpusPerNode: 112", "cpusPerNode: -1", 23, "pools[0].cpusPerNode", "must be at least 0, not -1")]
    [InlineData("memoryGbPerNode: 2048", "memoryGbPerNode: 2TB", 23, "pools[0].memoryGbPerNode", "must be a whole number, not '2TB'")]
    [InlineData("cpusPerNode: 112", "cpusPerNode: 11.5", 23, "pools[0].cpusPerNode", "must be a whole number")]
    [InlineData("latencyMs: 2.5", "latencyMs: -1", 26, "links[0].latencyMs", "must be at least 0, not -1")]
    [InlineData("latencyMs: 2.5", "latencyMS: 1", 26, "links[0].latencyMS", "unknown field")]
    [InlineData("sharing: { timeSharing: true, reconfigureSeconds: 2m }", "sharing: { reconfigureSeconds: 2m }", 17, "models[1].sharing.migProfiles",
        "a model that may be shared needs MIG profiles or timeSharing: true")]
    [InlineData("timeSharing: true,", "timeSharing: yes,", 17, "models[1].sharing.timeSharing", "must be true or false, not 'yes'")]
    [InlineData("reconfigureSeconds: 2m", "reconfigureSeconds: soon", 17, "models[1].sharing.reconfigureSeconds", "must be a duration")]
    [InlineData("sharing: { timeSharing: true,", "sharing: { timeShare: true,", 17, "models[1].sharing.timeShare", "unknown field")]
    [InlineData("sharing: { timeSharing: true, reconfigureSeconds: 2m }", "sharing: mig", 17, "models[1].sharing", "must be a mapping")]
    [InlineData("placements: [0, 1, 2, 3, 4, 5, 6]", "placements: [0, one]", 15, "models[0].sharing.migProfiles[0].placements[1]", "must be a whole number, not 'one'")]
    [InlineData("placements: [0, 1, 2, 3, 4, 5, 6]", "placements: 0", 15, "models[0].sharing.migProfiles[0].placements", "must be a list of whole numbers")]
    [InlineData("placements: [0, 1, 2, 3, 4, 5, 6]", "placements: [0, -1]", 15, "models[0].sharing.migProfiles[0].placements[1]", "must be at least 0")]
    [InlineData("          placements: [0, 1, 2, 3, 4, 5, 6]\n", "", 11, "models[0].sharing.migProfiles[0].placements", "is required")]
    [InlineData("          memoryGb: 10\n", "          memoryGb: 10\n          memSlices: 2\n", 15, "models[0].sharing.migProfiles[0].memSlices", "unknown field")]
    [InlineData("computeSlices: 1", "computeSlices: 9", 12, "models[0].sharing.migProfiles[0].computeSlices", "must be at most 8")]
    // The core's checks, at the line of the field they name.
    [InlineData("placements: [0, 1, 2, 3, 4, 5, 6]", "placements: [0, 7, 8]", 15, "models[0].sharing.migProfiles[0].placements", "an instance at 8 would run past memory slice 7")]
    [InlineData("memoryGb: 10", "memoryGb: 100", 14, "models[0].sharing.migProfiles[0].memoryGb", "must be above 0 and at most the GPU's 80 GB")]
    [InlineData("name: 3g.40gb", "name: 1g.10gb", 16, "models[0].sharing.migProfiles[1].name", "duplicate profile '1g.10gb'")]
    [InlineData("source: \"test geometry\"", "computeSlices: 2", 16, "models[0].sharing.migProfiles[1].computeSlices", "must be between 1 and 2")]
    public void Bad_resource_and_sharing_fields_name_file_line_and_field(string from, string to, int line, string field, string problem)
    {
        Assert.Contains(from, SharedFleet);
        var e = Assert.Throws<DataFileException>(() => Parse(SharedFleet.Replace(from, to)));
        Assert.True((line, field) == (e.Line, e.Field), e.Message);
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"f.yaml:{line}: {field}: ", e.Message);
    }

    [Fact]
    public void Shipped_fleets_give_their_models_mig_profiles_with_a_source_and_their_nodes_cpus_and_memory()
    {
        var korea = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));
        Assert.All(korea.Models, m => Assert.False(string.IsNullOrWhiteSpace(m.Sharing?.Source), m.Name));
        Assert.All(korea.PoolSpecs, p => Assert.True(p.CpusPerNode > 0 && p.MemoryGbPerNode > 0, p.Site));
        var b200 = korea.Models.Single(m => m.Name == "B200").Sharing!;
        // NVIDIA MIG User Guide, B200 180 GB: seven 1g.23gb, four 1g.45gb, three 2g.45gb, two 3g.90gb, one 4g.90gb, one 7g.180gb.
        Assert.Equal([("1g.23gb", 7), ("1g.45gb", 4), ("2g.45gb", 3), ("3g.90gb", 2), ("4g.90gb", 1), ("7g.180gb", 1)],
            b200.MigProfiles.Select(p => (p.Name, b200.MostOf(p))));
        Assert.Null(b200.LayoutProblem([new MigInstance("4g.90gb", 0), new MigInstance("3g.90gb", 4)]));
        Assert.NotNull(b200.LayoutProblem([new MigInstance("4g.90gb", 0), new MigInstance("3g.90gb", 0)]));
        var rtx = korea.Models.Single(m => m.Name == "RTXPRO6000").Sharing!;
        Assert.Equal([("1g.24gb", 4), ("2g.48gb", 2), ("4g.96gb", 1)], rtx.MigProfiles.Select(p => (p.Name, rtx.MostOf(p))));
        var gb200 = korea.PoolSpecs.First(p => p.Model == "GB200");
        Assert.Equal((144, 960), (gb200.CpusPerNode, gb200.MemoryGbPerNode));

        var first = FleetFile.Load(TestFiles.Fleet("korea-2026.yaml"));
        var h200 = first.Models.Single(m => m.Name == "H200").Sharing!;
        Assert.Equal([("1g.18gb", 7), ("1g.35gb", 4), ("2g.35gb", 3), ("3g.71gb", 2), ("4g.71gb", 1), ("7g.141gb", 1)],
            h200.MigProfiles.Select(p => (p.Name, h200.MostOf(p))));
        Assert.All(first.Links, l => Assert.True(l.LatencyMs > 0));
    }

    [Fact]
    public void Native_trace_keeps_cpus_memory_and_slices_and_reads_files_without_them()
    {
        var mig = new JobSpec(1, "t", 3, ["G"], TopologyNeed.Node, 600, 0, 0) { CpusPerGpu = 4, MemoryGbPerGpu = 60.5, Slice = new SliceRequest("1g.10gb", 0, 0) };
        var shared = new JobSpec(2, "t", 2, [], TopologyNeed.Site, 600, 0, 5) { Slice = new SliceRequest(null, 0.25, 20) };
        var whole = new JobSpec(3, "t", 8, [], TopologyNeed.Site, 600, 0, 9) { CpusPerGpu = 14 };
        var path = TestFiles.Temp("resources.csv");
        using (var w = new StreamWriter(path)) NativeTrace.Write(w, [new TraceJob(mig, 60), new TraceJob(shared, 60), new TraceJob(whole, 60)]);
        var lines = File.ReadAllLines(path);
        Assert.EndsWith(",cpusPerGpu,memoryGbPerGpu,slice", lines[0]);
        Assert.EndsWith(",4,60.5,mig:1g.10gb", lines[1]);
        Assert.EndsWith(",,,0.25:20", lines[2]);
        Assert.EndsWith(",14,,", lines[3]);
        var back = NativeTrace.Read(path);
        Assert.Equal([mig, shared, whole], back.Select((j, i) => j.Spec with { Models = new[] { mig, shared, whole }[i].Models }));
        Assert.Equal(["G"], back[0].Spec.Models);

        File.WriteAllText(path, NativeTrace.Header + "\n1,0,a,2,,site,10,5,0\n");
        var plain = NativeTrace.Read(path)[0].Spec;
        Assert.Equal((0.0, 0.0, (SliceRequest?)null), (plain.CpusPerGpu, plain.MemoryGbPerGpu, plain.Slice));
    }

    [Theory]
    [InlineData("slice", "mig:", "MIG profile must not be empty")]
    [InlineData("slice", "mig:1g 10gb", "MIG profile must hold only letters, digits, '.', '+', '-' and '_', not '1g 10gb'")]
    [InlineData("slice", "1.5:20", "GPU fraction must be above 0 and below 1, not 1.5")]
    [InlineData("slice", "0:20", "GPU fraction must be above 0 and below 1, not 0")]
    [InlineData("slice", "0.25:0", "GPU memory must be a finite number of GB above 0, not 0")]
    [InlineData("slice", "0.25:NaN", "GPU memory must be a finite number of GB above 0, not NaN")]
    [InlineData("slice", "0.25", "must be empty (whole GPUs), mig:<profile> (mig:1g.23gb) or <fraction>:<memory GB> (0.25:20), not '0.25'")]
    [InlineData("slice", "1g.10gb", "must be empty (whole GPUs), mig:<profile>")]
    [InlineData("slice", "0.25:20:3", "must be empty (whole GPUs), mig:<profile>")]
    [InlineData("cpusPerGpu", "-2", "must be at least 0, not -2")]
    [InlineData("cpusPerGpu", "many", "must be a number, not 'many'")]
    [InlineData("memoryGbPerGpu", "2e6", "must be at most 1,000,000, not 2000000")]
    public void Bad_cpu_memory_and_slice_cells_name_line_and_column(string column, string cell, string problem)
    {
        var path = TestFiles.Temp("bad-resources.csv");
        File.WriteAllText(path, $"{NativeTrace.Header},{column}\n1,0,a,1,,site,10,5,0,\n2,0,a,1,,site,10,5,0,{cell}\n");
        var e = Assert.Throws<DataFileException>(() => NativeTrace.Read(path));
        Assert.Equal((3L, column), (e.Line, e.Field));
        Assert.StartsWith(problem, e.Problem);
    }

    [Theory]
    [InlineData("mig:1g.23gb", "1g.23gb", 0, 0, "mig:1g.23gb", "mig:1g.23gb")]
    [InlineData(" MIG:3g.90gb ", "3g.90gb", 0, 0, "mig:3g.90gb", "mig:3g.90gb")]
    [InlineData("0.25:20", null, 0.25, 20, "0.25:20", "0.25 GPU, 20 GB")]
    [InlineData("0.5:7.5", null, 0.5, 7.5, "0.5:7.5", "0.5 GPU, 7.5 GB")]
    public void A_slice_cell_reads_and_writes_back_the_same(string cell, string? profile, double fraction, double memory, string written, string words)
    {
        var slice = JobFieldRules.ParseSlice(cell, out var problem);
        Assert.Null(problem);
        Assert.Equal(new SliceRequest(profile, fraction, memory), slice);
        Assert.Equal(written, JobFieldRules.SliceCell(slice));
        Assert.Equal(words, JobFieldRules.SliceText(slice!));
        Assert.Null(JobFieldRules.ParseSlice("  ", out var none));
        Assert.Null(none);
    }
}
