using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Core.Fleets;
using GpuFleet.Executors;
using GpuFleet.Server.Execution;
using Microsoft.Extensions.DependencyInjection;

namespace GpuFleet.Server.Tests;

/// <summary>
/// A site that takes its nodes from its cluster (<c>inventory: cluster</c>) while the server runs: nodes that leave
/// the cluster's list go out of service, a node that comes under a spare node's name goes into service, and a node
/// the fleet cannot hold is reported on <c>GET /api/v1/sites</c>, in <c>/metrics</c> and in the log.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClusterInventoryTests
{
    // The cluster lists n01 and n02 (8 GPUs each, its GRES untyped: the executor's model G) when the server starts;
    // with spareNodes: 1 the fleet also holds n03, out of service until the cluster lists it. The fleet knows H200 too.
    private static readonly GpuModel[] Models = [.. RunningServer.SmallFleet.Models, new GpuModel("H200", 141, 700, 100, 1.5)];

    private static Fleet FleetFromCluster(int cpus = 0, int memoryGb = 0)
    {
        var site = RunningServer.SmallFleet.Sites[0] with
        {
            Executor = new SiteExecutorSpec("slurm", new Dictionary<string, string>
            {
                ["pollSeconds"] = "1", ["inventorySeconds"] = "1", ["inventory"] = "cluster", ["model"] = "G", ["spareNodes"] = "1",
            }),
        };
        var pools = ClusterPools.Of(site, Models, [new ClusterNode("n01", 8, null, Cpus: cpus, MemoryGb: memoryGb), new ClusterNode("n02", 8, null, Cpus: cpus, MemoryGb: memoryGb)], "sites[0].executor.inventory");
        return new Fleet("cluster", Models, [site], pools);
    }

    private static async Task<JsonElement> SiteAsync(RunningServer server) =>
        (await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/sites")).EnumerateArray().Single();

    private static IReadOnlyList<(string Node, int Unscheduled, string Reason)> Unscheduled(JsonElement site) =>
        site.GetProperty("unscheduledNodes") is { ValueKind: JsonValueKind.Array } nodes
            ? [.. nodes.EnumerateArray().Select(n => (n.GetProperty("node").GetString()!, n.GetProperty("unscheduledGpus").GetInt32(), n.GetProperty("reason").GetString()!))]
            : [];

    [Fact]
    public async Task Nodes_the_cluster_lists_later_go_into_service_under_a_spare_name_and_are_reported_otherwise()
    {
        var fleet = FleetFromCluster();
        Assert.Equal(["n01", "n02", "n03"], Enumerable.Range(0, fleet.NodeCount).Select(fleet.NodeName));
        var cluster = new InMemoryCluster(fleet, 0);
        cluster.Unlist("n03");
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        await server.UntilAsync(async () => (await SiteAsync(server)).GetProperty("outOfServiceGpus").GetInt32() == 8, "the spare n03 out of service");

        // 24 GPUs fit the fleet, not the nodes listed now: the job waits.
        var wide = (await server.PostJobAsync(new { tenant = "a", gpus = 24, timeLimitSeconds = 3600 })).GetProperty("id").GetInt64();
        server.Scheduler.Tick();
        Assert.Equal("pending", (await server.GetJobAsync(wide)).GetProperty("state").GetString());
        Assert.Empty(Unscheduled(await SiteAsync(server)));

        // The cluster grows by n03: no restart, the spare goes into service and the job runs on all three.
        cluster.List(new InventoryNode("n03", 8, null, InventoryNodeState.Up));
        await server.UntilAsync(() => Task.FromResult(cluster.Runs(wide)), "the 24-GPU job launched once n03 is listed");
        Assert.Equal(["n01", "n02", "n03"], cluster.Launches.Single(l => l.JobId == wide).Nodes.Select(n => n.Node).Order());
        Assert.Equal(0, (await SiteAsync(server)).GetProperty("outOfServiceGpus").GetInt32());

        // n04 and a node of another shape come too: the fleet has no node of their names, so they are reported, not scheduled.
        cluster.List(new InventoryNode("n04", 8, null, InventoryNodeState.Up));
        cluster.List(new InventoryNode("gb-1", 4, "NVIDIA-H200", InventoryNodeState.Up));
        // n02 is now listed with another of the fleet's models than it holds it with, and n01 with more GPUs: neither is taken as it is.
        cluster.List(new InventoryNode("n02", 8, "NVIDIA-H200", InventoryNodeState.Up));
        cluster.List(new InventoryNode("n01", 12, null, InventoryNodeState.Up));
        await server.UntilAsync(async () => Unscheduled(await SiteAsync(server)).Count == 4, "four nodes reported");
        var site = await SiteAsync(server);
        var reported = Unscheduled(site).ToDictionary(n => n.Node);
        Assert.Equal(8, reported["n04"].Unscheduled);
        Assert.Contains("not in the fleet", reported["n04"].Reason);
        Assert.Contains("fits pool s/G, taken at a restart", reported["n04"].Reason);
        Assert.Equal((4, "not in the fleet: H200 × 4 needs a new pool at s, made at a restart"), (reported["gb-1"].Unscheduled, reported["gb-1"].Reason));
        Assert.Equal(8, reported["n02"].Unscheduled);
        Assert.Contains("listed with GPU model NVIDIA-H200, which is H200; the fleet holds it as G", reported["n02"].Reason);
        Assert.Equal(4, reported["n01"].Unscheduled);
        Assert.Contains("lists 12 GPUs, the fleet holds 8", reported["n01"].Reason);
        // n02 takes no work while it is listed so (its job runs on); n01's 8 are in service.
        Assert.Equal(8, site.GetProperty("outOfServiceGpus").GetInt32());
        Assert.Contains("gpufleet_site_unscheduled_gpus{site=\"s\"} 24", await server.ClientWith(null).GetStringAsync("/metrics"));
        Assert.Equal("running", (await server.GetJobAsync(wide)).GetProperty("state").GetString());
        Assert.Contains(server.Scheduler.SiteHealth.Single().Unscheduled!, n => n.Node == "n04");

        // The cluster drops n03 and n02 fits again: n03 out of service, n02 back, nothing reported for either.
        cluster.Unlist("n03");
        cluster.List(new InventoryNode("n02", 8, null, InventoryNodeState.Up));
        await server.UntilAsync(async () => Unscheduled(await SiteAsync(server)).Select(n => n.Node).Order().SequenceEqual(["gb-1", "n01", "n04"])
            && (await SiteAsync(server)).GetProperty("outOfServiceGpus").GetInt32() == 8, "n02 back, n03 out of service");
    }

    [Fact]
    public async Task A_node_listed_with_fewer_gpus_than_the_fleet_holds_has_the_rest_out_of_service()
    {
        var fleet = FleetFromCluster();
        var cluster = new InMemoryCluster(fleet, 0);
        cluster.List(new InventoryNode("n02", 6, null, InventoryNodeState.Up, GpusHeldByOthers: 1));
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        // n02: 2 GPUs the cluster no longer lists and 1 its own users hold.
        await server.UntilAsync(async () => (await SiteAsync(server)).GetProperty("outOfServiceGpus").GetInt32() == 3, "3 GPUs of n02 out of service");
        Assert.Empty(Unscheduled(await SiteAsync(server)));
    }

    [Fact]
    public async Task A_node_listed_with_fewer_cpu_cores_than_the_fleet_holds_takes_no_work_and_says_why()
    {
        // Listed with 32 cores and 1,000 GB when the server started; now n02 says 16 cores (half its sockets disabled, say).
        var fleet = FleetFromCluster(cpus: 32, memoryGb: 1000);
        Assert.Equal((32, 1000), (fleet.PoolSpecs[0].CpusPerNode, fleet.PoolSpecs[0].MemoryGbPerNode));
        var cluster = new InMemoryCluster(fleet, 0);
        cluster.List(new InventoryNode("n02", 8, null, InventoryNodeState.Up, Cpus: 16, MemoryGb: 1000));
        await using var server = await RunningServer.StartAsync(adjust: s => s with { Fleet = fleet }, services: s => s.AddSingleton<SiteExecutorFactory>((_, _) => cluster));
        await server.UntilAsync(async () => Unscheduled(await SiteAsync(server)).Count == 1, "n02 reported");
        var site = await SiteAsync(server);
        var (node, unscheduled, reason) = Unscheduled(site).Single();
        Assert.Equal(("n02", 8), (node, unscheduled));
        Assert.Contains("lists 16 CPU cores and 1000 GB of memory, less than the 32 and 1000 GB the fleet holds", reason);
        Assert.Equal(8, site.GetProperty("outOfServiceGpus").GetInt32());

        // Listed whole again, it takes work again.
        cluster.List(new InventoryNode("n02", 8, null, InventoryNodeState.Up, Cpus: 32, MemoryGb: 1000));
        await server.UntilAsync(async () => Unscheduled(await SiteAsync(server)).Count == 0 && (await SiteAsync(server)).GetProperty("outOfServiceGpus").GetInt32() == 0, "n02 back");
    }
}
