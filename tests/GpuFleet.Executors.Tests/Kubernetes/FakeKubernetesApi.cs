using System.Text;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server on 127.0.0.1 with just the calls a GpuFleet executor makes: create, list and
/// delete <c>batch/v1</c> Jobs in a namespace; list and watch pods (with <c>resourceVersion</c>, and the
/// real server's <c>410 Gone</c> ERROR event for a version older than the history it keeps); list all
/// pods and the nodes. A created Job gets one Pending pod per completion index on the nodes its affinity
/// names; the test moves pods and Jobs through their phases. Bodies are the client library's own models
/// in its own JSON, as a real server's are.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, V1Job> _jobs = [];
    private readonly Dictionary<string, V1Pod> _pods = [];
    private readonly List<V1Node> _nodes = [];
    private readonly List<(long Version, string Type, V1Pod Pod)> _history = [];
    private long _version = 100;
    private long _oldestKept;

    private FakeKubernetesApi(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();
    public List<string> Calls { get; } = [];
    /// <summary>Exceptions the fake's own handlers threw (none, in a good run).</summary>
    public List<string> Errors { get; } = [];

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
        app.MapGet("/apis/batch/v1/namespaces/{ns}/jobs", (HttpContext c) => fake.Json(c, new V1JobList { Items = fake.Locked(() => fake._jobs.Values.ToList()), Metadata = new V1ListMeta { ResourceVersion = fake.Version } }));
        app.MapDelete("/apis/batch/v1/namespaces/{ns}/jobs/{name}", fake.DeleteJob);
        app.MapGet("/api/v1/namespaces/{ns}/pods", fake.Pods);
        app.MapGet("/api/v1/pods", (HttpContext c) => fake.Json(c, new V1PodList { Items = fake.Locked(() => fake._pods.Values.ToList()), Metadata = new V1ListMeta { ResourceVersion = fake.Version } }));
        app.MapGet("/api/v1/nodes", (HttpContext c) => fake.Json(c, new V1NodeList { Items = fake.Locked(() => fake._nodes.ToList()), Metadata = new V1ListMeta { ResourceVersion = fake.Version } }));
        await app.StartAsync();
        return fake;
    }

    private string Version => Locked(() => _version.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private T Locked<T>(Func<T> read)
    {
        lock (_lock) return read();
    }

    private Task Json(HttpContext context, object body, int status = 200)
    {
        lock (_lock) Calls.Add($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(KubernetesJson.Serialize(body));
    }

    // A Status as the API server writes it (the client library reads V1Status but cannot write one).
    private static object Status(int code, string reason, string message) =>
        new { apiVersion = "v1", kind = "Status", metadata = new { }, status = "Failure", message, reason, code };

    private async Task CreateJob(HttpContext context, string ns)
    {
        var job = KubernetesJson.Deserialize<V1Job>(await new StreamReader(context.Request.Body).ReadToEndAsync());
        var exists = false;
        lock (_lock)
        {
            exists = _jobs.ContainsKey(job.Metadata.Name);
            if (!exists) Create(job, ns);
        }
        if (exists) await Json(context, Status(409, "AlreadyExists", $"jobs.batch \"{job.Metadata.Name}\" already exists"), 409);
        else await Json(context, job, 201);
    }

    private void Create(V1Job job, string ns)
    {
        job.Metadata.NamespaceProperty = ns;
        job.Metadata.Uid = Guid.NewGuid().ToString();
        job.Status = new V1JobStatus();
        _jobs[job.Metadata.Name] = job;
        var nodes = job.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values;
        for (var index = 0; index < (job.Spec.Completions ?? 1); index++)
        {
            var pod = new V1Pod
            {
                ApiVersion = "v1", Kind = "Pod",
                Metadata = new V1ObjectMeta { Name = $"{job.Metadata.Name}-{index}-x{index}", NamespaceProperty = ns, Labels = new Dictionary<string, string>(job.Spec.Template.Metadata.Labels) },
                Spec = new V1PodSpec { NodeName = nodes[index], Containers = job.Spec.Template.Spec.Containers, RestartPolicy = "Never" },
                Status = new V1PodStatus { Phase = "Pending" },
            };
            Change("ADDED", pod);
        }
    }

    private Task DeleteJob(HttpContext context, string ns, string name)
    {
        lock (_lock)
        {
            if (!_jobs.Remove(name)) return Json(context, Status(404, "NotFound", $"jobs.batch \"{name}\" not found"), 404);
            foreach (var pod in _pods.Values.Where(p => p.Metadata.Name.StartsWith(name + "-", StringComparison.Ordinal)).ToList()) Change("DELETED", pod);
        }
        return Json(context, new { apiVersion = "v1", kind = "Status", metadata = new { }, status = "Success" });
    }

    private async Task Pods(HttpContext context, string ns)
    {
        if (context.Request.Query["watch"] != "true")
        {
            await Json(context, new V1PodList { Items = Locked(() => _pods.Values.ToList()), Metadata = new V1ListMeta { ResourceVersion = Version } });
            return;
        }
        var from = long.Parse(context.Request.Query["resourceVersion"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
        var timeout = int.Parse(context.Request.Query["timeoutSeconds"].ToString() is { Length: > 0 } t ? t : "1", System.Globalization.CultureInfo.InvariantCulture);
        lock (_lock) Calls.Add($"WATCH pods from {from}");
        context.Response.ContentType = "application/json";
        bool gone;
        lock (_lock) gone = from < _oldestKept;
        if (gone)
        {
            // What a real API server streams for a version older than its history: one ERROR event, 410 Expired.
            await context.Response.WriteAsync(KubernetesJson.Serialize(new { type = "ERROR", @object = Status(410, "Expired", $"too old resource version: {from} ({_oldestKept})") }) + "\n");
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
                await context.Response.WriteAsync(KubernetesJson.Serialize(new Watcher<V1Pod>.WatchEvent { Type = Enum.Parse<WatchEventType>(type, true), Object = pod }) + "\n");
                sent = version;
            }
            await context.Response.Body.FlushAsync();
            await Task.Delay(50);
        }
    }

    // Every change to a pod gets the next resource version and a place in the watch history.
    private void Change(string type, V1Pod pod)
    {
        _version++;
        var copy = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(pod));
        copy.Metadata.ResourceVersion = _version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (type == "DELETED") _pods.Remove(copy.Metadata.Name);
        else _pods[copy.Metadata.Name] = copy;
        _history.Add((_version, type, copy));
    }

    /// <summary>Moves every pod of a Job to <paramref name="phase"/>; a Failed one terminates with <paramref name="exitCode"/> and <paramref name="reason"/>.</summary>
    public void SetPods(string job, string phase, int exitCode = 0, string? reason = null)
    {
        lock (_lock)
            foreach (var pod in _pods.Values.Where(p => p.Metadata.Name.StartsWith(job + "-", StringComparison.Ordinal)).ToList())
            {
                pod.Status = new V1PodStatus
                {
                    Phase = phase,
                    ContainerStatuses = phase is "Succeeded" or "Failed"
                        ? [new V1ContainerStatus { Name = "job", Image = "busybox", ImageID = "", Ready = false, RestartCount = 0, State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, Reason = reason } } }]
                        : null,
                };
                Change("MODIFIED", pod);
            }
    }

    /// <summary>Sets a condition on a Job, as the Job controller does when it completes or fails.</summary>
    public void SetJobCondition(string job, string type, string? reason = null)
    {
        lock (_lock) _jobs[job].Status = new V1JobStatus { Conditions = [new V1JobCondition { Type = type, Status = "True", Reason = reason }] };
    }

    /// <summary>Deletes one pod, as a user with kubectl would.</summary>
    public void DeletePod(string name)
    {
        lock (_lock) Change("DELETED", _pods[name]);
    }

    /// <summary>Deletes a Job behind GpuFleet's back.</summary>
    public void DeleteJobOutside(string name)
    {
        lock (_lock)
        {
            _jobs.Remove(name);
            foreach (var pod in _pods.Values.Where(p => p.Metadata.Name.StartsWith(name + "-", StringComparison.Ordinal)).ToList()) Change("DELETED", pod);
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

    public IReadOnlyList<V1Pod> PodsOf(string job) => Locked(() => _pods.Values.Where(p => p.Metadata.Name.StartsWith(job + "-", StringComparison.Ordinal)).ToList());

    public V1Job? Job(string name) => Locked(() => _jobs.GetValueOrDefault(name));

    public void AddNode(string name, int gpus, string product, bool ready = true, bool unschedulable = false)
    {
        lock (_lock)
            _nodes.Add(new V1Node
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = product, ["kubernetes.io/hostname"] = name } },
                Spec = new V1NodeSpec { Unschedulable = unschedulable },
                Status = new V1NodeStatus
                {
                    Allocatable = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = new(gpus.ToString(System.Globalization.CultureInfo.InvariantCulture)), ["cpu"] = new("64") },
                    Conditions = [new V1NodeCondition { Type = "Ready", Status = ready ? "True" : "False" }],
                },
            });
    }

    /// <summary>A pod someone else runs on <paramref name="node"/> with <paramref name="gpus"/> GPUs.</summary>
    public void AddForeignPod(string name, string node, int gpus)
    {
        lock (_lock)
            Change("ADDED", new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "research" },
                Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Image = "x", Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = new(gpus.ToString(System.Globalization.CultureInfo.InvariantCulture)) } } }] },
                Status = new V1PodStatus { Phase = "Running" },
            });
    }

    public async ValueTask DisposeAsync()
    {
        if (Errors.Count > 0) Console.Error.WriteLine(string.Join("\n", Errors));
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
