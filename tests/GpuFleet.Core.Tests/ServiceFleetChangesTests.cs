using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Services;
using GpuFleet.Tests.Shared;

namespace GpuFleet.Core.Tests;

/// <summary>A live fleet's services come and go, are pinned by hand, and are rebuilt by a new leader with their replicas' ids.</summary>
[Trait("Category", "Unit")]
public sealed class ServiceFleetChangesTests
{
    private static ServiceSpec Chat(string name = "chat") => new(name, "t", 2, 0, 8, 100, 1);

    [Fact]
    public void Services_are_added_and_removed_and_a_removed_name_may_be_used_again()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8).Build());
        var services = new ServiceFleet(scheduler, []);
        var chat = services.Add(Chat());
        Assert.Equal(0, chat);
        Assert.Throws<ServiceValidationException>(() => services.Add(Chat()));
        var tooBig = Assert.Throws<ServiceValidationException>(() => services.Add(Chat("big") with { GpusPerReplica = 9 }));
        Assert.Equal("replica", tooBig.Field);
        services.Scale(chat, 300, 0);
        services.Observe(scheduler.RunCycle(0));
        Assert.Equal(3, services.Placed(chat));

        var removed = services.Remove(chat, 10);
        Assert.Equal(3, removed.Count(c => c.Kind == ReplicaChangeKind.Ended && c.WasPlaced));
        Assert.True(services.IsRemoved(chat));
        Assert.Equal(0, scheduler.RunningCount);
        Assert.Equal(-1, services.IndexOf("chat"));
        Assert.Equal(1, services.Add(Chat()));
    }

    [Fact]
    public void A_pinned_count_overrides_the_rate_and_keeps_it()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8).Build());
        var services = new ServiceFleet(scheduler, [Chat()]);
        services.Scale(0, 200, 0);
        Assert.Equal(2, services.Held(0));
        var pinned = services.ScaleTo(0, 5, 1);
        Assert.Equal(3, pinned.Count(c => c.Kind == ReplicaChangeKind.Submitted));
        Assert.Equal((5, 200.0), (services.Desired(0), services.Rate(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => services.ScaleTo(0, 9, 2));
    }

    [Fact]
    public void Replicas_are_restored_with_their_ids_forgotten_when_they_end_outside_and_take_ids_from_a_store()
    {
        var scheduler = new FleetScheduler(FleetBuilder.Pool(gpusPerNode: 8).Build());
        var services = new ServiceFleet(scheduler, [Chat()]);
        Assert.True(services.Restore(0, 41, 0).Accepted);
        Assert.True(services.Restore(0, 42, 0).Accepted);
        Assert.Equal((0, -1, 2), (services.ServiceOf(42), services.ServiceOf(43), services.Held(0)));
        var next = 100L;
        services.ReplicaIds = () => next++;
        // 400 requests/s wants 4: two more, with the store's ids.
        var up = services.Scale(0, 400, 5);
        Assert.Equal([100L, 101L], up.Select(c => c.JobId));
        services.Observe(scheduler.RunCycle(5));
        Assert.Equal(4, services.Placed(0));
        // One ended by itself (its run ended): dropped, and replaced at the next scaling.
        scheduler.End(41, 6);
        Assert.True(services.Forget(41));
        Assert.Equal(3, services.Held(0));
        var replaced = services.Scale(0, 400, 7);
        Assert.Equal([102L], replaced.Select(c => c.JobId));
    }
}
