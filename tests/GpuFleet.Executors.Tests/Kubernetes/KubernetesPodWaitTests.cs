using GpuFleet.Executors.Kubernetes;
using k8s.Models;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>Why a Job's pods have not started, as an operator reads it beside a site's waiting runs.</summary>
[Trait("Category", "Unit")]
public sealed class KubernetesPodWaitTests
{
    private static readonly IReadOnlyList<V1Pod> Recorded = RecordedKubernetes.Read<V1PodList>("hkube-2018-pods.json").Items.ToList();

    // A pod of GpuFleet's Job 7 that has not started: its scheduling condition, and its container's status if any.
    private static V1Pod Pending(V1PodCondition scheduled, V1ContainerStatus? container = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "gpufleet-7-0-abcde" },
        Status = new V1PodStatus { Phase = "Pending", Conditions = [scheduled], ContainerStatuses = container is null ? null : [container] },
    };

    [Fact]
    public void A_scheduled_pod_whose_container_is_being_created_says_so()
    {
        // Recorded: Pending, PodScheduled=True, its container waiting with reason ContainerCreating.
        var creating = Recorded.Single(p => p.Metadata.Name == "curator-1518134460-mxnwg");
        var running = Recorded.Single(p => p.Metadata.Name == "busybox");
        Assert.Equal(("ContainerCreating", false), KubernetesPodWait.Of([running, creating], 2));
    }

    [Fact]
    public void Pods_that_all_run_or_ran_wait_for_nothing()
    {
        var ran = Recorded.Where(p => p.Status.Phase is "Running" or "Succeeded").ToList();
        Assert.Null(KubernetesPodWait.Of(ran, ran.Count));
        // All that exist run, but the Job wants one more.
        Assert.Equal(("not every pod created yet", false), KubernetesPodWait.Of(ran, ran.Count + 1));
    }

    [Fact]
    public void An_unschedulable_pod_gives_the_schedulers_reason_and_message()
    {
        var pod = Pending(new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable",
            Message = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu." });
        Assert.Equal(("Unschedulable: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.", false), KubernetesPodWait.Of([pod], 1));
        // A long one is cut.
        pod.Status.Conditions[0].Message = "0/900 nodes are available: " + string.Join(", ", Enumerable.Range(0, 100).Select(i => $"{i} node(s) had untolerated taint"));
        Assert.Equal(200 + "Unschedulable: ".Length + 1, KubernetesPodWait.Of([pod], 1)!.Value.Reason.Length);
    }

    [Fact]
    public void A_container_that_cannot_pull_its_image_gives_its_reason_not_the_message_that_names_the_image_and_is_its_own_wait()
    {
        var pod = Pending(new V1PodCondition { Type = "PodScheduled", Status = "True" },
            new V1ContainerStatus { Name = "job", Image = "registry.example/team/model:7", ImageID = "", Ready = false, RestartCount = 0,
                State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ImagePullBackOff", Message = "Back-off pulling image \"registry.example/team/model:7\"" } } });
        // And it is the job's own doing: its nodes are not set aside for it.
        Assert.Equal(("ImagePullBackOff", true), KubernetesPodWait.Of([pod], 1));
    }

    [Fact]
    public void A_job_without_pods_yet_says_so()
    {
        Assert.Equal(("no pod created yet", false), KubernetesPodWait.Of([], 4));
    }
}
