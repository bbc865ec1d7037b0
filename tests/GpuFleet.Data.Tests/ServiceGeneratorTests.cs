using System.Text.Json;
using GpuFleet.Core.Services;
using GpuFleet.Core.Workloads;
using GpuFleet.Data.Fleets;
using GpuFleet.Data.Services;
using GpuFleet.Data.Tenancy;
using GpuFleet.Data.Workloads;

namespace GpuFleet.Data.Tests;

/// <summary>Services made for a generated workload, and the file they are written to.</summary>
[Trait("Category", "Unit")]
public sealed class ServiceGeneratorTests
{
    private static readonly Core.Fleets.Fleet Korea = FleetFile.Load(TestFiles.Fleet("korea-2030.yaml"));

    private static IReadOnlyList<GeneratedService> Twenty(int seed) =>
        ServiceGenerator.Generate(Korea, TenantFile.Load(TestFiles.Tenants("korea-2030.yaml"), Korea), 20, 0.05, seed, ServiceFile.GenAiDay());

    [Fact]
    public void The_built_in_curve_is_the_shipped_genai_day()
    {
        var shipped = ServiceFile.ReadCsv(Path.Combine(TestFiles.Root, "traces", "rates", "alibaba-genai-rate.csv"));
        Assert.Equal(shipped, ServiceFile.GenAiDay());
        Assert.Equal(133, shipped.Count);
    }

    [Fact]
    public void Generated_services_take_the_asked_share_of_the_fleet_at_their_peaks_for_tenants_guaranteed_their_model()
    {
        var tree = TenantFile.Load(TestFiles.Tenants("korea-2030.yaml"), Korea);
        var services = Twenty(1);
        Assert.Equal(20, services.Select(s => s.Spec.Name).Distinct().Count());
        // 5% of 260,144 GPUs, less what rounding down to whole replicas loses.
        var peak = services.Sum(s => s.PeakGpus);
        Assert.InRange(peak, 0.99 * 0.05 * Korea.TotalGpus, 0.05 * Korea.TotalGpus);
        foreach (var g in services)
        {
            var s = g.Spec;
            Assert.Null(ServiceScaler.Problem(s));
            var model = Assert.Single(s.Models);
            var leaf = Assert.Single(tree.Leaves, l => l.Name == s.Tenant);
            Assert.True(leaf.Guarantee.GetValueOrDefault(model) > 0, $"{s.Name}: {s.Tenant} has no {model} guarantee");
            Assert.Equal("production", s.PriorityClass);
            // service-02, -04... run on the smallest slice of a model that may be shared, the rest on whole GPUs.
            var shared = Korea.Models[Korea.ModelIndex(model)].Sharing is not null;
            Assert.Equal(int.Parse(s.Name[^2..]) % 2 == 0 && shared, s.Slice is not null);
            // At the curve's peak the scaler wants the service's peak: its GPU-equivalents over its replica's share.
            var gpuShare = s.RequestsPerSecondPerReplica / ServiceGenerator.RequestsPerGpu;
            var atPeak = ServiceScaler.DesiredReplicas(s, ServiceFile.GenAiDay().Max(p => p.RequestsPerSecond) * g.Scale);
            Assert.Equal(Math.Round(g.PeakGpus / gpuShare), atPeak);
            Assert.True(s.MaxReplicas >= atPeak);
            Assert.InRange(g.ShiftSeconds, -86_400 + 600, 0);
            Assert.Equal(0, g.ShiftSeconds % 600);
        }
        Assert.Contains(services, s => s.Spec.Slice is not null);
        Assert.True(services.Select(s => s.Spec.Models[0]).Distinct().Count() > 1);
    }

    [Fact]
    public void The_same_seed_gives_the_same_services_and_another_seed_others()
    {
        static string Json(IReadOnlyList<GeneratedService> s) => JsonSerializer.Serialize(s);
        Assert.Equal(Json(Twenty(1)), Json(Twenty(1)));
        Assert.NotEqual(Json(Twenty(1)), Json(Twenty(2)));
    }

    [Fact]
    public void The_written_file_reads_back_as_the_services_generated_playing_the_curve_every_day()
    {
        var services = Twenty(3);
        var dir = TestFiles.Temp("generated-services");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "week.services.yaml");
        var curve = ServiceFile.GenAiDay();
        using (var w = new StreamWriter(Path.Combine(dir, "week.services.rate.csv"))) ServiceFileWriter.WriteCurve(w, curve, ["a day, \"quoted\""]);
        using (var w = new StreamWriter(path)) ServiceFileWriter.Write(w, "korea-2030-services", services, "week.services.rate.csv", true, 8 * 86_400, ["generated"]);

        var loaded = ServiceFile.Load(path, Korea);
        Assert.Equal(JsonSerializer.Serialize(services.Select(s => s.Spec)), JsonSerializer.Serialize(loaded.Select(l => l.Service)));
        for (var i = 0; i < services.Count; i++)
        {
            var rate = loaded[i].Rate;
            // Eight plays of the day, each scaled and shifted back as generated.
            Assert.Equal(8 * curve.Count, rate.Count);
            Assert.Equal(curve[0].Seconds + services[i].ShiftSeconds, rate[0].Seconds);
            Assert.Equal(curve[5].RequestsPerSecond * services[i].Scale, rate[5].RequestsPerSecond, 9);
            Assert.Equal(curve[5].Seconds + 86_400 + services[i].ShiftSeconds, rate[curve.Count + 5].Seconds);
        }
    }

    [Fact]
    public void A_tenant_name_that_yaml_would_misread_is_written_quoted()
    {
        var spec = new ServiceSpec("s", "a: b # c", 1, 1, 2, 10, 0.7) { Models = ["G"] };
        var text = new StringWriter();
        ServiceFileWriter.Write(text, "n", [new GeneratedService(spec, 2, 0, 1)], "rate.csv", false, 86_400, []);
        var dir = TestFiles.Temp("quoted-services");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "rate.csv"), "seconds,requestsPerSecond\n0,1\n600,2\n");
        var loaded = ServiceFile.Parse(new StringReader(text.ToString()), Path.Combine(dir, "s.yaml"));
        Assert.Equal("a: b # c", Assert.Single(loaded).Service.Tenant);
        Assert.Equal([new ServiceRatePoint(0, 2), new ServiceRatePoint(600, 4)], loaded[0].Rate);
    }

    [Fact]
    public void A_share_of_a_workload_drawn_from_a_mix_brings_that_share_of_its_gpu_time()
    {
        var fleet = FleetFile.Load(TestFiles.Fleet("mixed-nodes.yaml"));
        foreach (var share in new[] { 0.2, 0.6 })
        {
            var jobs = WorkloadGenerator.Generate(WorkloadModel.Default, fleet, 30, 0.8, 5, null, RequestMix.Pai2020, share);
            // Jobs of the mix ask for CPU and memory; the model's own jobs do not.
            double GpuSeconds(IEnumerable<TraceJob> js) => js.Sum(j => j.Spec.StatedGpus * j.RuntimeSeconds);
            var fromMix = GpuSeconds(jobs.Where(j => j.Spec.CpusPerGpu > 0)) / GpuSeconds(jobs);
            Assert.InRange(fromMix, share - 0.1, share + 0.1);
        }
        // All from the mix is the workload it always was: every job asks for CPU.
        Assert.All(WorkloadGenerator.Generate(WorkloadModel.Default, fleet, 2, 0.8, 5, null, RequestMix.Pai2020), j => Assert.True(j.Spec.CpusPerGpu > 0));
    }
}
