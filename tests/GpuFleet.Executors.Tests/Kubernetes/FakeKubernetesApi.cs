using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server on 127.0.0.1 with just the calls a GpuFleet executor makes: create, list and delete
/// <c>batch/v1</c> Jobs in a namespace; list and watch pods; list all pods and the nodes. Its answers have the
/// shapes of the recorded ones (<c>Recorded/kubernetes/</c>, see its README): a created Job comes back with the API
/// server's defaults (selector, <c>controller-uid</c> and <c>job-name</c> labels, <c>podReplacementPolicy</c>,
/// <c>managedFields</c>) and an empty status; its pods are named <c>&lt;job&gt;-&lt;index&gt;-&lt;5 letters&gt;</c>, carry
/// the completion index, an owner reference and the <c>batch.kubernetes.io/job-tracking</c> finalizer, appear
/// Pending and unscheduled and are then bound to their node. A watch from a version older than the history kept is
/// answered as the API server's watch cache does, with one <c>ERROR</c> event (410, Expired, "too old resource
/// version: N (M)"); a watch that asked for bookmarks ends with a <c>BOOKMARK</c> event. Lists and watches of Jobs and
/// of a namespace's pods answer only what their <c>labelSelector</c> selects.
/// </summary>
/// <remarks>
/// It also does what the Job controller does (Kubernetes 1.31 and later) for GpuFleet's Jobs, with
/// <c>backoffLimit: 0</c> and no pod failure policy: a pod that fails, or one deleted while it could still run (the
/// controller counts a terminating pod as failed), adds <c>FailureTarget</c> (BackoffLimitExceeded) and deletes the
/// rest of the Job's pods; the deadline adds <c>FailureTarget</c> (DeadlineExceeded) and deletes them; every index
/// succeeded adds <c>SuccessCriteriaMet</c> and <c>Complete</c>; <c>Failed</c> follows <c>FailureTarget</c> once no pod
/// is left running or terminating. A deleted pod keeps running until the test lets its kubelet stop it
/// (<see cref="FinishTerminations"/>): its container then ends 137, the pod turns Failed, loses its finalizer and
/// is gone (a DELETED event with that last state). Server times come from a clock of the fake's own.
/// </remarks>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    private const string Tracking = "batch.kubernetes.io/job-tracking";
    private readonly object _lock = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, V1Job> _jobs = [];
    private readonly Dictionary<string, V1Pod> _pods = [];
    private readonly Dictionary<string, int> _failedOf = [];
    private readonly List<V1Node> _nodes = [];
    private readonly List<(long Version, string Type, V1Pod Pod)> _history = [];
    private readonly Queue<IReadOnlyList<string>> _watchAnswers = [];
    private readonly Random _names = new(7);
    private long _version = 100;
    private long _oldestKept;
    private DateTime _now = new(2026, 3, 2, 10, 0, 0, DateTimeKind.Utc);

    private FakeKubernetesApi(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();
    public List<string> Calls { get; } = [];
    /// <summary>Exceptions the fake's own handlers threw (none, in a good run).</summary>
    public List<string> Errors { get; } = [];
    /// <summary>A body to answer the next Job creation with, instead of the fake's own (a recorded one).</summary>
    public string? NextCreatedJob { get; set; }

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeKubernetesApi(app);
        // A fault of the fake itself must show in the test, not as a puzzling 500 in the executor.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e)
            {
                lock (fake._lock) fake.Errors.Add(e.ToString());
                throw;
            }
        });
        app.MapPost("/apis/batch/v1/namespaces/{ns}/jobs", fake.CreateJob);
        app.MapGet("/apis/batch/v1/namespaces/{ns}/jobs", (HttpContext c) => fake.Json(c, fake.Locked(() => new V1JobList { ApiVersion = "batch/v1", Kind = "JobList", Items = [.. fake._jobs.Values.Where(j => Selected(c, j.Metadata))], Metadata = new V1ListMeta { ResourceVersion = fake.VersionText } })));
        app.MapDelete("/apis/batch/v1/namespaces/{ns}/jobs/{name}", fake.DeleteJob);
        app.MapGet("/api/v1/namespaces/{ns}/pods", fake.Pods);
        app.MapGet("/api/v1/pods", (HttpContext c) => fake.Json(c, fake.Locked(() => new V1PodList { ApiVersion = "v1", Kind = "PodList", Items = [.. fake._pods.Values], Metadata = new V1ListMeta { ResourceVersion = fake.VersionText } })));
        app.MapGet("/api/v1/nodes", (HttpContext c) => fake.Json(c, fake.Locked(() => new V1NodeList { ApiVersion = "v1", Kind = "NodeList", Items = [.. fake._nodes], Metadata = new V1ListMeta { ResourceVersion = fake.VersionText } })));
        await app.StartAsync();
        return fake;
    }

    private string VersionText => _version.ToString(CultureInfo.InvariantCulture);

    private T Locked<T>(Func<T> read)
    {
        lock (_lock) return read();
    }

    private Task Json(HttpContext context, object body, int status = 200) => Raw(context, KubernetesJson.Serialize(body), status);

    private Task Raw(HttpContext context, string body, int status = 200)
    {
        lock (_lock) Calls.Add($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body);
    }

    // A Status as the API server writes it (the client library reads V1Status but cannot write one).
    private static object Status(int code, string reason, string message, object? details = null) =>
        new { kind = "Status", apiVersion = "v1", metadata = new { }, status = "Failure", message, reason, details, code };

    private async Task CreateJob(HttpContext context, string ns)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var job = KubernetesJson.Deserialize<V1Job>(body);
        // As the API server names the field manager: the fieldManager parameter, else the User-Agent up to its first '/'.
        var manager = context.Request.Query["fieldManager"].ToString() is { Length: > 0 } m ? m : context.Request.Headers.UserAgent.ToString().Split('/')[0];
        V1Job? created = null;
        string? recorded;
        lock (_lock)
        {
            recorded = NextCreatedJob;
            NextCreatedJob = null;
            if (!_jobs.ContainsKey(job.Metadata.Name)) created = Create(job, ns, manager, JsonNode.Parse(body)!);
        }
        if (created is null)
            await Json(context, Status(409, "AlreadyExists", $"jobs.batch \"{job.Metadata.Name}\" already exists", new { name = job.Metadata.Name, group = "batch", kind = "jobs" }), 409);
        else if (recorded is not null) await Raw(context, recorded, 201);
        else await Json(context, created, 201);
    }

    private V1Job Create(V1Job job, string ns, string manager, JsonNode request)
    {
        var uid = Guid.NewGuid().ToString();
        var name = job.Metadata.Name;
        job.Metadata.NamespaceProperty = ns;
        job.Metadata.Uid = uid;
        job.Metadata.Generation = 1;
        job.Metadata.CreationTimestamp = _now;
        job.Metadata.ManagedFields = [new V1ManagedFieldsEntry { Manager = manager, Operation = "Update", ApiVersion = "batch/v1", Time = _now, FieldsType = "FieldsV1", FieldsV1 = FieldsOf(request) }];
        // The API server's defaults for a Job (pkg/apis/batch/v1/defaults.go, the Job strategy's selector and labels).
        job.Spec.Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["batch.kubernetes.io/controller-uid"] = uid } };
        job.Spec.Suspend ??= false;
        job.Spec.PodReplacementPolicy ??= "TerminatingOrFailed";
        job.Spec.ManualSelector = null;
        var labels = job.Spec.Template.Metadata.Labels ??= new Dictionary<string, string>();
        labels["batch.kubernetes.io/controller-uid"] = uid;
        labels["batch.kubernetes.io/job-name"] = name;
        labels["controller-uid"] = uid;
        labels["job-name"] = name;
        var pod = job.Spec.Template.Spec;
        pod.DnsPolicy ??= "ClusterFirst";
        pod.SchedulerName ??= "default-scheduler";
        pod.SecurityContext ??= new V1PodSecurityContext();
        pod.TerminationGracePeriodSeconds ??= 30;
        foreach (var container in pod.Containers)
        {
            container.ImagePullPolicy ??= container.Image.EndsWith(":latest", StringComparison.Ordinal) || !container.Image.Contains(':') ? "Always" : "IfNotPresent";
            container.TerminationMessagePath ??= "/dev/termination-log";
            container.TerminationMessagePolicy ??= "File";
            // Requests default to the limits for a resource given only limits (extended resources need equal ones).
            if (container.Resources?.Limits is { } limits && container.Resources.Requests is null) container.Resources.Requests = new Dictionary<string, ResourceQuantity>(limits);
        }
        job.Status = new V1JobStatus();
        _version++;
        job.Metadata.ResourceVersion = VersionText;
        var answer = Copy(job);
        _jobs[name] = job;
        _failedOf[name] = 0;
        // The Job controller's first sync: its pods, and a status.
        job.Status = new V1JobStatus { StartTime = _now, Active = job.Spec.Completions ?? 1, Ready = 0, Terminating = 0, UncountedTerminatedPods = new V1UncountedTerminatedPods() };
        var nodes = pod.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms[0].MatchExpressions[0].Values ?? [];
        for (var index = 0; index < (job.Spec.Completions ?? 1); index++)
        {
            var i = index.ToString(CultureInfo.InvariantCulture);
            var created = new V1Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new V1ObjectMeta
                {
                    Name = $"{name}-{i}-{Suffix()}",
                    GenerateName = $"{name}-{i}-",
                    NamespaceProperty = ns,
                    Uid = Guid.NewGuid().ToString(),
                    CreationTimestamp = _now,
                    Labels = new Dictionary<string, string>(labels) { ["batch.kubernetes.io/job-completion-index"] = i },
                    Annotations = new Dictionary<string, string> { ["batch.kubernetes.io/job-completion-index"] = i },
                    Finalizers = [Tracking],
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = name, Uid = uid, Controller = true, BlockOwnerDeletion = true }],
                },
                Spec = KubernetesJson.Deserialize<V1PodSpec>(KubernetesJson.Serialize(pod)),
                Status = new V1PodStatus { Phase = "Pending", QosClass = "BestEffort" },
            };
            created.Spec.Hostname = $"{name}-{i}";
            created.Spec.ServiceAccountName = created.Spec.ServiceAccount = "default";
            created.Spec.Priority = 0;
            created.Spec.EnableServiceLinks = true;
            created.Spec.PreemptionPolicy = "PreemptLowerPriority";
            // The DefaultTolerationSeconds admission plugin's two tolerations.
            created.Spec.Tolerations = [.. created.Spec.Tolerations ?? [],
                new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 300 },
                new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 300 }];
            Change("ADDED", created);
            // The scheduler binds it to the node its affinity names.
            if (index < nodes.Count)
            {
                created.Spec.NodeName = nodes[index];
                created.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = _now }];
                Change("MODIFIED", created);
            }
        }
        return answer;
    }

    // managedFields' fieldsV1 of the fields a request set: its maps, key by key (lists are left as leaves).
    private static object FieldsOf(JsonNode request)
    {
        static JsonObject Fields(JsonObject node)
        {
            var fields = new JsonObject();
            foreach (var (key, value) in node)
                if (key is not ("apiVersion" or "kind")) fields["f:" + key] = value is JsonObject inner ? Fields(inner) : new JsonObject();
            return fields;
        }
        return JsonSerializer.Deserialize<JsonElement>(Fields(request.AsObject()).ToJsonString());
    }

    private string Suffix() => new([.. Enumerable.Range(0, 5).Select(_ => "bcdfghjklmnpqrstvwxz2456789"[_names.Next(27)])]);

    private Task DeleteJob(HttpContext context, string ns, string name)
    {
        string? uid;
        lock (_lock)
        {
            if (!_jobs.Remove(name, out var job)) return Json(context, Status(404, "NotFound", $"jobs.batch \"{name}\" not found", new { name, group = "batch", kind = "jobs" }), 404);
            uid = job.Metadata.Uid;
            // Background propagation: the Job goes now, the garbage collector deletes its pods.
            foreach (var pod in PodsOfLocked(name))
            {
                if (pod.Metadata.DeletionTimestamp is null) StartDeletion(pod);
                Orphan(pod);
            }
        }
        return Json(context, new { kind = "Status", apiVersion = "v1", metadata = new { }, status = "Success", details = new { name, group = "batch", kind = "jobs", uid } });
    }

    private async Task Pods(HttpContext context, string ns)
    {
        if (context.Request.Query["watch"] != "true")
        {
            await Json(context, Locked(() => new V1PodList { ApiVersion = "v1", Kind = "PodList", Items = [.. _pods.Values.Where(p => Selected(context, p.Metadata))], Metadata = new V1ListMeta { ResourceVersion = VersionText } }));
            return;
        }
        var from = long.Parse(context.Request.Query["resourceVersion"].ToString(), CultureInfo.InvariantCulture);
        var timeout = int.Parse(context.Request.Query["timeoutSeconds"].ToString() is { Length: > 0 } t ? t : "1", CultureInfo.InvariantCulture);
        var bookmarks = context.Request.Query["allowWatchBookmarks"] == "true";
        IReadOnlyList<string>? scripted;
        lock (_lock)
        {
            Calls.Add($"WATCH pods from {from}");
            scripted = _watchAnswers.Count > 0 ? _watchAnswers.Dequeue() : null;
        }
        context.Response.ContentType = "application/json";
        if (scripted is not null)
        {
            // Recorded lines, as they were.
            foreach (var line in scripted) await context.Response.WriteAsync(line + "\n");
            return;
        }
        bool gone;
        long oldest;
        lock (_lock) (gone, oldest) = (from < _oldestKept, _oldestKept);
        if (gone)
        {
            // What the watch cache streams for a version older than its history (watch_cache.go): one ERROR event.
            await context.Response.WriteAsync(KubernetesJson.Serialize(new { type = "ERROR", @object = Status(410, "Expired", $"too old resource version: {from} ({oldest})") }) + "\n");
            return;
        }
        var until = DateTime.UtcNow.AddSeconds(timeout);
        var sent = from;
        while (DateTime.UtcNow < until && !context.RequestAborted.IsCancellationRequested)
        {
            List<(long Version, string Type, V1Pod Pod)> next;
            lock (_lock) next = [.. _history.Where(h => h.Version > sent)];
            foreach (var (version, type, pod) in next)
            {
                sent = version;
                if (!Selected(context, pod.Metadata)) continue;
                await context.Response.WriteAsync(KubernetesJson.Serialize(new Watcher<V1Pod>.WatchEvent { Type = Enum.Parse<WatchEventType>(type, true), Object = pod }) + "\n");
            }
            await context.Response.Body.FlushAsync();
            await Task.Delay(50);
        }
        if (bookmarks && !context.RequestAborted.IsCancellationRequested)
        {
            // A bookmark says every change up to its version was sent: send what came meanwhile first.
            List<(long Version, string Type, V1Pod Pod)> rest;
            long now;
            lock (_lock) (rest, now) = ([.. _history.Where(h => h.Version > sent)], _version);
            foreach (var (_, type, pod) in rest.Where(h => Selected(context, h.Pod.Metadata)))
                await context.Response.WriteAsync(KubernetesJson.Serialize(new Watcher<V1Pod>.WatchEvent { Type = Enum.Parse<WatchEventType>(type, true), Object = pod }) + "\n");
            // Its object is an empty pod that carries only that version (as Go writes an empty v1.Pod).
            var version = now.ToString(CultureInfo.InvariantCulture);
            await context.Response.WriteAsync($"{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{{\"resourceVersion\":\"{version}\"}},\"spec\":{{\"containers\":null}},\"status\":{{}}}}}}\n");
        }
    }

    // Whether an object's labels meet the request's labelSelector, as the API server reads one: requirements separated
    // by commas, each "key" (exists), "!key" (does not), "key=value" or "key==value", "key!=value". No selector: all.
    private static bool Selected(HttpContext context, V1ObjectMeta meta)
    {
        var selector = context.Request.Query["labelSelector"].ToString();
        var labels = meta.Labels ?? new Dictionary<string, string>();
        foreach (var requirement in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var met = requirement switch
            {
                ['!', .. var key] => !labels.ContainsKey(key),
                _ when requirement.Split("!=") is [var key, var value] => !labels.TryGetValue(key, out var v) || v != value,
                _ when requirement.Replace("==", "=", StringComparison.Ordinal).Split('=') is [var key, var value] => labels.TryGetValue(key, out var v) && v == value,
                _ => labels.ContainsKey(requirement),
            };
            if (!met) return false;
        }
        return true;
    }

    // Every change to a pod gets the next resource version and a place in the watch history.
    private void Change(string type, V1Pod pod)
    {
        _version++;
        var copy = Copy(pod);
        copy.Metadata.ResourceVersion = VersionText;
        if (type == "DELETED") _pods.Remove(copy.Metadata.Name);
        else _pods[copy.Metadata.Name] = copy;
        _history.Add((_version, type, copy));
    }

    private static T Copy<T>(T value) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(value));

    private List<V1Pod> PodsOfLocked(string job) => [.. _pods.Values.Where(p => JobNameOf(p) == job).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)];

    private static string? JobNameOf(V1Pod pod) => pod.Metadata.Labels is { } l && l.TryGetValue("job-name", out var name) ? name : null;

    private static bool Terminal(V1Pod pod) => pod.Status.Phase is "Succeeded" or "Failed";

    // A deletion asked for with the pod's grace period: the pod stays, terminating, until its kubelet stops it.
    private void StartDeletion(V1Pod pod, V1PodCondition? disruption = null)
    {
        var grace = pod.Spec.TerminationGracePeriodSeconds ?? 30;
        pod.Metadata.DeletionGracePeriodSeconds = grace;
        pod.Metadata.DeletionTimestamp = _now.AddSeconds(grace);
        if (disruption is not null) pod.Status.Conditions = [.. pod.Status.Conditions ?? [], disruption];
        Change("MODIFIED", pod);
        GoneIfDone(pod);
    }

    // A pod asked to go, with no finalizer left, goes once no kubelet runs it any more (ended, or never bound).
    private void GoneIfDone(V1Pod pod)
    {
        if (pod.Metadata.DeletionTimestamp is not null && (pod.Metadata.Finalizers?.Count ?? 0) == 0 && (Terminal(pod) || pod.Spec.NodeName is null)) Change("DELETED", pod);
    }

    // What the Job controller does for the pods of a Job that is gone: it takes its finalizer off them.
    private void Orphan(V1Pod pod)
    {
        if (pod.Metadata.Finalizers?.Contains(Tracking) != true) return;
        pod.Metadata.Finalizers = null;
        Change("MODIFIED", pod);
        GoneIfDone(pod);
    }

    private void Terminate(V1Pod pod, int exitCode, string reason, DateTime startedAt)
    {
        var container = pod.Status.ContainerStatuses?.FirstOrDefault() ?? new V1ContainerStatus { Name = pod.Spec.Containers[0].Name, Image = pod.Spec.Containers[0].Image, ImageID = "", ContainerID = ContainerId(pod) };
        container.Ready = false;
        container.Started = false;
        container.State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, Reason = reason, StartedAt = startedAt, FinishedAt = _now, ContainerID = container.ContainerID } };
        pod.Status.Phase = exitCode == 0 ? "Succeeded" : "Failed";
        pod.Status.ContainerStatuses = [container];
        pod.Status.Conditions = [.. (pod.Status.Conditions ?? []).Where(c => c.Type is not ("Ready" or "ContainersReady")),
            new V1PodCondition { Type = "Ready", Status = "False", Reason = exitCode == 0 ? "PodCompleted" : "PodFailed", LastTransitionTime = _now },
            new V1PodCondition { Type = "ContainersReady", Status = "False", Reason = exitCode == 0 ? "PodCompleted" : "PodFailed", LastTransitionTime = _now }];
    }

    private static string ContainerId(V1Pod pod) => "containerd://" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(pod.Metadata.Uid)));

    // The Job controller, for one Job: counts, conditions, finalizers, and the deletion of a failed Job's pods.
    private void Sync(string name)
    {
        if (!_jobs.TryGetValue(name, out var job)) return;
        var pods = PodsOfLocked(name);
        // A terminating pod that had not succeeded counts as failed (podReplacementPolicy TerminatingOrFailed).
        foreach (var pod in pods.Where(p => p.Metadata.Finalizers?.Contains(Tracking) == true && (p.Status.Phase == "Failed" || p.Metadata.DeletionTimestamp is not null && p.Status.Phase != "Succeeded")))
        {
            _failedOf[name]++;
            pod.Metadata.Finalizers = null;
            Change("MODIFIED", pod);
            GoneIfDone(pod);
        }
        foreach (var pod in pods.Where(p => p.Metadata.Finalizers?.Contains(Tracking) == true && p.Status.Phase == "Succeeded"))
        {
            pod.Metadata.Finalizers = null;
            Change("MODIFIED", pod);
        }
        pods = PodsOfLocked(name);
        var conditions = job.Status.Conditions ??= [];
        var succeeded = pods.Count(p => p.Status.Phase == "Succeeded");
        var completions = job.Spec.Completions ?? 1;
        if (!conditions.Any(c => c.Type is "FailureTarget" or "SuccessCriteriaMet"))
        {
            if (_failedOf[name] > (job.Spec.BackoffLimit ?? 6)) Fail(job, pods, "BackoffLimitExceeded", "Job has reached the specified backoff limit");
            else if (succeeded >= completions)
            {
                conditions.Add(Condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"));
                conditions.Add(Condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods"));
                job.Status.CompletionTime = _now;
                job.Status.CompletedIndexes = completions == 1 ? "0" : $"0-{completions - 1}";
            }
        }
        pods = PodsOfLocked(name);
        if (conditions.FirstOrDefault(c => c.Type == "FailureTarget") is { } target && !conditions.Any(c => c.Type == "Failed") && pods.All(Terminal))
            conditions.Add(Condition("Failed", target.Reason, target.Message));
        job.Status.Active = pods.Count(p => !Terminal(p) && p.Metadata.DeletionTimestamp is null);
        job.Status.Terminating = pods.Count(p => !Terminal(p) && p.Metadata.DeletionTimestamp is not null);
        job.Status.Ready = pods.Count(p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        job.Status.Succeeded = succeeded;
        job.Status.Failed = _failedOf[name];
        _version++;
        job.Metadata.ResourceVersion = VersionText;
    }

    private void Fail(V1Job job, List<V1Pod> pods, string reason, string message)
    {
        job.Status.Conditions.Add(Condition("FailureTarget", reason, message));
        foreach (var pod in pods.Where(p => !Terminal(p) && p.Metadata.DeletionTimestamp is null)) StartDeletion(pod);
    }

    private V1JobCondition Condition(string type, string reason, string message) =>
        new() { Type = type, Status = "True", Reason = reason, Message = message, LastProbeTime = _now, LastTransitionTime = _now };

    /// <summary>Moves the server's clock on.</summary>
    public void Advance(int seconds)
    {
        lock (_lock) _now = _now.AddSeconds(seconds);
    }

    /// <summary>The kubelet starts the containers of every pod of a Job that is bound and not terminating.</summary>
    public void RunPods(string job)
    {
        lock (_lock)
        {
            _now = _now.AddSeconds(2);
            foreach (var pod in PodsOfLocked(job).Where(p => p.Status.Phase == "Pending" && p.Spec.NodeName is not null && p.Metadata.DeletionTimestamp is null))
            {
                var container = pod.Spec.Containers[0];
                pod.Status.Phase = "Running";
                pod.Status.HostIP = "10.0.0." + (1 + Math.Abs(pod.Spec.NodeName.GetHashCode(StringComparison.Ordinal) % 200)).ToString(CultureInfo.InvariantCulture);
                pod.Status.PodIP = "100.96.3." + (1 + _names.Next(250)).ToString(CultureInfo.InvariantCulture);
                pod.Status.StartTime = _now;
                pod.Status.Conditions = [.. new[] { "Initialized", "Ready", "ContainersReady", "PodScheduled" }.Select(t => new V1PodCondition { Type = t, Status = "True", LastTransitionTime = _now })];
                pod.Status.ContainerStatuses = [new V1ContainerStatus
                {
                    Name = container.Name, Image = container.Image, ImageID = $"docker.io/library/{container.Image}@sha256:{new string('0', 64)}", ContainerID = ContainerId(pod),
                    Ready = true, Started = true, RestartCount = 0, LastState = new V1ContainerState(), State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = _now } },
                }];
                Change("MODIFIED", pod);
            }
            Sync(job);
        }
    }

    /// <summary>
    /// The containers of a Job's running pods end by themselves (all of them, or the one of <paramref name="index"/>):
    /// exit code 0 is "Completed", another "Error" unless <paramref name="reason"/> says (OOMKilled).
    /// </summary>
    public void ExitPods(string job, int exitCode = 0, string? reason = null, int? index = null)
    {
        lock (_lock)
        {
            _now = _now.AddSeconds(5);
            foreach (var pod in PodsOfLocked(job).Where(p => p.Status.Phase == "Running" && (index is null || p.Metadata.Labels["batch.kubernetes.io/job-completion-index"] == index.Value.ToString(CultureInfo.InvariantCulture))))
            {
                Terminate(pod, exitCode, reason ?? (exitCode == 0 ? "Completed" : "Error"), pod.Status.StartTime ?? _now);
                Change("MODIFIED", pod);
            }
            Sync(job);
        }
    }

    /// <summary>Deletes one pod, as <c>kubectl delete pod</c> does (or, with <paramref name="disruption"/>, the taint manager or an eviction).</summary>
    public void DeletePod(string name, string? disruption = null)
    {
        lock (_lock)
        {
            _now = _now.AddSeconds(1);
            var pod = _pods[name];
            StartDeletion(pod, disruption is null ? null : new V1PodCondition { Type = "DisruptionTarget", Status = "True", Reason = disruption, Message = $"{disruption} deleted it", LastTransitionTime = _now });
            Sync(pod.Metadata.Labels["job-name"]);
        }
    }

    /// <summary>The Job's <c>activeDeadlineSeconds</c> passes.</summary>
    public void ExpireDeadline(string job)
    {
        lock (_lock)
        {
            var j = _jobs[job];
            _now = j.Status.StartTime!.Value.AddSeconds(j.Spec.ActiveDeadlineSeconds ?? 0);
            Fail(j, PodsOfLocked(job), "DeadlineExceeded", "Job was active longer than specified deadline");
            Sync(job);
        }
    }

    /// <summary>The kubelets stop every terminating pod: its container ends 137 (SIGKILL after the grace period), it turns Failed and is gone.</summary>
    public void FinishTerminations()
    {
        lock (_lock)
        {
            _now = _now.AddSeconds(30);
            var jobs = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pod in _pods.Values.Where(p => p.Metadata.DeletionTimestamp is not null && !Terminal(p)).ToList())
            {
                Terminate(pod, 137, "Error", pod.Status.StartTime ?? _now);
                Change("MODIFIED", pod);
                GoneIfDone(pod);
                if (JobNameOf(pod) is { } job) jobs.Add(job);
            }
            foreach (var job in jobs) Sync(job);
        }
    }

    /// <summary>Deletes a Job behind GpuFleet's back (background propagation: its pods are deleted after it).</summary>
    public void DeleteJobOutside(string name)
    {
        lock (_lock)
        {
            _jobs.Remove(name);
            foreach (var pod in PodsOfLocked(name))
            {
                if (pod.Metadata.DeletionTimestamp is null) StartDeletion(pod);
                Orphan(pod);
            }
        }
    }

    /// <summary>Forgets the watch history: a watch from any version seen so far now gets 410 Gone.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            // A watch from the current version (what a fresh list answers) still works; from any older one it does not.
            _oldestKept = _version;
            _history.Clear();
        }
    }

    /// <summary>The next pod watch is answered with these lines, as they are (recorded ones).</summary>
    public void AnswerNextWatch(params string[] lines)
    {
        lock (_lock) _watchAnswers.Enqueue(lines);
    }

    public IReadOnlyList<V1Pod> PodsOf(string job) => Locked(() => PodsOfLocked(job));

    public V1Job? Job(string name) => Locked(() => _jobs.GetValueOrDefault(name));

    /// <summary>A Job as given (a recorded one), with its pods, as if the Job controller had made them.</summary>
    public void AddJob(V1Job job, params V1Pod[] pods)
    {
        lock (_lock)
        {
            _jobs[job.Metadata.Name] = job;
            _failedOf[job.Metadata.Name] = 0;
            foreach (var pod in pods) Change("ADDED", pod);
        }
    }

    /// <summary>A node as given (a recorded one).</summary>
    public void AddNode(V1Node node)
    {
        lock (_lock) _nodes.Add(node);
    }

    /// <summary>A pod as given (a recorded one), of no GpuFleet Job.</summary>
    public void AddPod(V1Pod pod)
    {
        lock (_lock) Change("ADDED", pod);
    }

    /// <summary>
    /// A GPU node as GPU feature discovery and the device plugin leave it: <c>nvidia.com/gpu.product</c> and
    /// <c>nvidia.com/gpu.count</c> labels, <c>nvidia.com/gpu</c> in capacity and allocatable, the kubelet's four
    /// conditions; cordoned, it has <c>unschedulable</c> and its taint; not ready, <c>Ready: Unknown</c> and the
    /// node controller's taints.
    /// </summary>
    public void AddNode(string name, int gpus, string product, bool ready = true, bool unschedulable = false, params V1Taint[] taints)
    {
        var count = gpus.ToString(CultureInfo.InvariantCulture);
        var heartbeat = new DateTime(2026, 3, 2, 9, 59, 30, DateTimeKind.Utc);
        V1NodeCondition Kubelet(string type, string status, string reason, string message) =>
            new() { Type = type, Status = ready ? status : "Unknown", Reason = ready ? reason : "NodeStatusUnknown", Message = ready ? message : "Kubelet stopped posting node status.", LastHeartbeatTime = heartbeat, LastTransitionTime = heartbeat.AddDays(-3) };
        var allTaints = taints.ToList();
        if (unschedulable) allTaints.Add(new V1Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule", TimeAdded = heartbeat });
        if (!ready) allTaints.AddRange([new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoSchedule", TimeAdded = heartbeat }, new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoExecute", TimeAdded = heartbeat }]);
        var resources = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("64"), ["memory"] = new("1056515816Ki"), ["pods"] = new("110") };
        if (gpus > 0) resources[GpuFleet.Executors.Kubernetes.KubernetesLabels.Gpu] = new(count);
        var labels = new Dictionary<string, string> { ["kubernetes.io/arch"] = "amd64", ["kubernetes.io/hostname"] = name, ["kubernetes.io/os"] = "linux" };
        if (gpus > 0)
        {
            labels["nvidia.com/gpu.present"] = "true";
            labels["nvidia.com/gpu.product"] = product;
            labels["nvidia.com/gpu.count"] = count;
        }
        AddNode(new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta { Name = name, Uid = Guid.NewGuid().ToString(), ResourceVersion = "4711", CreationTimestamp = heartbeat.AddDays(-30), Labels = labels },
            Spec = new V1NodeSpec { Unschedulable = unschedulable ? true : null, Taints = allTaints.Count > 0 ? allTaints : null, ProviderID = $"aws:///eu-west-1a/i-{name}" },
            Status = new V1NodeStatus
            {
                Capacity = new Dictionary<string, ResourceQuantity>(resources),
                Allocatable = resources,
                Conditions =
                [
                    Kubelet("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    Kubelet("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    Kubelet("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    Kubelet("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                NodeInfo = new V1NodeSystemInfo { Architecture = "amd64", OperatingSystem = "linux", KubeletVersion = "v1.33.4", KubeProxyVersion = "v1.33.4", ContainerRuntimeVersion = "containerd://1.7.27", KernelVersion = "6.8.0-1029-aws", OsImage = "Ubuntu 22.04.5 LTS", BootID = "", MachineID = "", SystemUUID = "" },
            },
        });
    }

    /// <summary>
    /// Sets a label on a node, as a labeller does: GPU feature discovery's <c>nvidia.com/gpu.clique</c>
    /// (<c>&lt;cluster UUID&gt;.&lt;clique id&gt;</c>) on a GB200 NVL72 node, for one.
    /// </summary>
    public void Label(string node, string key, string value)
    {
        lock (_lock) _nodes.Single(n => n.Metadata.Name == node).Metadata.Labels[key] = value;
    }

    /// <summary>A pod someone else runs on <paramref name="node"/> with <paramref name="gpus"/> GPUs.</summary>
    public void AddForeignPod(string name, string node, int gpus)
    {
        var limits = new Dictionary<string, ResourceQuantity> { [GpuFleet.Executors.Kubernetes.KubernetesLabels.Gpu] = new(gpus.ToString(CultureInfo.InvariantCulture)) };
        lock (_lock)
            Change("ADDED", new V1Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "research", Uid = Guid.NewGuid().ToString(), CreationTimestamp = _now, Labels = new Dictionary<string, string> { ["app"] = "notebook" } },
                Spec = new V1PodSpec { NodeName = node, RestartPolicy = "Always", Containers = [new V1Container { Name = "c", Image = "jupyter/base-notebook", Resources = new V1ResourceRequirements { Limits = limits, Requests = new Dictionary<string, ResourceQuantity>(limits) } }] },
                Status = new V1PodStatus { Phase = "Running", StartTime = _now, QosClass = "BestEffort" },
            });
    }

    public async ValueTask DisposeAsync()
    {
        if (Errors.Count > 0) await Console.Error.WriteLineAsync(string.Join("\n", Errors));
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
