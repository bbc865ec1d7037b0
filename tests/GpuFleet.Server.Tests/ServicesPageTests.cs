using GpuFleet.Server.Api;
using GpuFleet.Server.Dashboard;

namespace GpuFleet.Server.Tests;

/// <summary>The dashboard's services page as markup: replicas wanted, and standby replicas counted apart.</summary>
[Trait("Category", "Unit")]
public sealed class ServicesPageTests
{
    private static ServiceView Chat(int standby, int desired, int running) => new("chat", "a", 1, 1, 6, 100, 0.5, [], null, 0, 0, null, null, null, null,
        DateTimeOffset.UnixEpoch, standby, 50, DateTimeOffset.UnixEpoch, null, desired, running, 0,
        [.. Enumerable.Range(1, running).Select(i => new ReplicaView(i, DateTimeOffset.UnixEpoch, "s", $"s-g-000{i} (GPU 0)"))], [], null, []);

    [Fact]
    public void Standby_replicas_are_counted_apart_from_the_replicas_wanted()
    {
        var text = ServicesPage.Live([Chat(standby: 2, desired: 1, running: 3)], DateTimeOffset.UnixEpoch).Text;
        Assert.Contains("1 of 1 wanted", text);
        Assert.Contains("2 of 2 standing by", text);
        // Without standby replicas a surplus (replicas not yet ended after a scale-down) shows as it is.
        var plain = ServicesPage.Live([Chat(standby: 0, desired: 1, running: 3)], DateTimeOffset.UnixEpoch).Text;
        Assert.Contains("3 of 1 wanted", plain);
        Assert.DoesNotContain("standing by", plain);
    }
}
