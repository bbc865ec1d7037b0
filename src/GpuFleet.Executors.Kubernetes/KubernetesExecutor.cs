using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace GpuFleet.Executors.Kubernetes;

/// <summary>
/// Runs a Kubernetes site's placements as <c>batch/v1</c> Jobs (<see cref="KubernetesJobSpec"/>) and
/// follows them by watching their pods: a watch resumed from the last <c>resourceVersion</c> seen, and a
/// fresh list when the API server says that version is gone (<c>410 Gone</c>). Each look at the cluster
/// is one pod watch of at most a second and one list of GpuFleet's Jobs, whatever the number of jobs.
/// </summary>
/// <remarks>
/// Example: job 7 runs as Job <c>gpufleet-7</c> (of installation <c>prod</c>: <c>gpufleet-prod-7</c>, labelled
/// <c>gpufleet.io/installation=prod</c>; the executor lists, watches and deletes only its installation's Jobs and pods). Its pods turn Running on nodes a and b → Started (a, b);
/// the Job's <c>Complete</c> (or <c>SuccessCriteriaMet</c>) condition → Finished, exit code 0; <c>FailureTarget</c>
/// or <c>Failed</c> with reason <c>DeadlineExceeded</c> → TimedOut; a container that failed by itself → its exit
/// code, or OutOfMemory when it was <c>OOMKilled</c>. A pod deleted by someone else while it ran, or a Job deleted
/// outside GpuFleet, loses the run (Lost; NodeFailure when the pod's <c>DisruptionTarget</c> blames its node):
/// GpuFleet queues the job again and the rest of the gang is deleted. <see cref="KubernetesJobEnd"/> tells these
/// apart; <see cref="KubernetesNodes"/> reads the inventory.
/// Kubernetes has no call that signals a container: a checkpoint request is refused, and an eviction
/// deletes the Job, whose pods get SIGTERM and their termination grace period.
/// </remarks>
public sealed class KubernetesExecutor : ISiteExecutor
{
    private readonly IKubernetes _client;
    private readonly KubernetesExecutorOptions _options;
    private readonly RunNames _names;
    // This installation's Jobs and pods: GpuFleet's label, and its installation's (none for the unnamed one).
    private readonly string _selector;
    private readonly Dictionary<string, V1Pod> _pods = [];
    // Pods deleted while their Job runs, as last seen: who deleted a pod decides how the run ended.
    private readonly Dictionary<string, V1Pod> _deleted = [];
    private readonly HashSet<long> _started = [];
    private readonly HashSet<long> _known = [];
    private readonly HashSet<long> _cancelled = [];
    // Jobs whose end was reported: Kubernetes keeps a finished Job (until its TTL), GpuFleet hears of its end once.
    private readonly HashSet<long> _ended = [];
    private string? _resourceVersion;

    public KubernetesExecutor(KubernetesExecutorOptions options, IKubernetes? client = null)
    {
        _options = options;
        _names = new RunNames(options.Installation);
        _selector = KubernetesLabels.Selector(options.Installation);
        _client = client ?? new k8s.Kubernetes(options.Host is { } host ? new KubernetesClientConfiguration { Host = host }
            : options.KubeconfigPath is { } path ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
            : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile());
    }

    /// <inheritdoc />
    public string Kind => "kubernetes";

    /// <summary>Times the pod watch was started again from a fresh list after the API server answered 410 Gone.</summary>
    public int Relists { get; private set; }

    /// <inheritdoc />
    public async Task LaunchAsync(ExecutorLaunch launch, CancellationToken cancel)
    {
        var job = KubernetesJobSpec.For(launch, _options, _names);
        await Call(async () =>
        {
            try
            {
                await _client.BatchV1.CreateNamespacedJobAsync(job, _options.Namespace, cancellationToken: cancel);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // It exists already: launched before a crash. Nothing new starts.
            }
            return 0;
        });
        lock (_pods)
        {
            _known.Add(launch.JobId);
            _cancelled.Remove(launch.JobId);
            _ended.Remove(launch.JobId);
        }
    }

    /// <inheritdoc />
    public Task SignalAsync(long jobId, ExecutorSignal signal, CancellationToken cancel) =>
        throw new ExecutorRejectedException("Kubernetes has no call that signals a container; an eviction deletes the Job, and its pods get SIGTERM and their grace period");

    /// <inheritdoc />
    public async Task CancelAsync(long jobId, CancellationToken cancel)
    {
        lock (_pods) _cancelled.Add(jobId);
        await DeleteJobAsync(jobId, cancel);
    }

    private Task DeleteJobAsync(long jobId, CancellationToken cancel) =>
        Call(async () =>
        {
            try
            {
                await _client.BatchV1.DeleteNamespacedJobAsync(_names.Of(jobId), _options.Namespace, propagationPolicy: "Background", cancellationToken: cancel);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }
            return 0;
        });

    /// <inheritdoc />
    public async Task<ExecutorObservation> ObserveAsync(CancellationToken cancel)
    {
        await FollowPodsAsync(cancel);
        var jobs = await Call(() => _client.BatchV1.ListNamespacedJobAsync(_options.Namespace, labelSelector: _selector, cancellationToken: cancel));
        var events = new List<ExecutorEvent>();
        var runs = new List<ExecutorRun>();
        var now = DateTimeOffset.UtcNow;
        var listed = new HashSet<long>();
        lock (_pods)
        {
            // Pods by job, once per look (not a scan of every pod for every job).
            var podsOf = _pods.Values.ToLookup(p => IdOf(p.Metadata.Labels));
            var deletedOf = _deleted.Values.ToLookup(p => IdOf(p.Metadata.Labels));
            foreach (var job in jobs.Items)
            {
                if (IdOf(job.Metadata.Labels) is not { } id) continue;
                listed.Add(id);
                if (_ended.Contains(id)) continue;
                _known.Add(id);
                var pods = podsOf[id].ToList();
                var nodes = pods.Select(p => p.Spec?.NodeName).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
                var wanted = job.Spec?.Completions ?? 1;
                if (!_started.Contains(id) && pods.Count(p => p.Status?.Phase is "Running" or "Succeeded") >= wanted)
                {
                    _started.Add(id);
                    events.Add(new ExecutorEvent(id, ExecutorEventKind.Started, now, Nodes: nodes));
                }
                if (KubernetesJobEnd.Of(id, job, pods, [.. deletedOf[id]], _cancelled.Contains(id), now) is { } end)
                {
                    events.Add(end);
                    _known.Remove(id);
                    _ended.Add(id);
                    _cancelled.Remove(id);
                    continue;
                }
                var wait = _started.Contains(id) ? null : KubernetesPodWait.Of(pods, wanted);
                runs.Add(new ExecutorRun(id, job.Metadata.Name, nodes, wait?.Reason, wait?.OnItself ?? false));
            }
            _ended.IntersectWith(listed);
            foreach (var id in _known.Where(id => !listed.Contains(id)).ToList())
            {
                _known.Remove(id);
                events.Add(_cancelled.Remove(id)
                    ? new ExecutorEvent(id, ExecutorEventKind.Cancelled, now)
                    : new ExecutorEvent(id, ExecutorEventKind.Lost, now, Detail: $"its Job {_names.Of(id)} was deleted outside GpuFleet"));
            }
            // Deleted pods matter only while their Job runs: forget those of Jobs that ended or are gone.
            foreach (var (name, pod) in _deleted.ToList())
                if (IdOf(pod.Metadata.Labels) is not { } id || !listed.Contains(id) || _ended.Contains(id)) _deleted.Remove(name);
        }
        // A gang that lost a pod (or a node) to someone else is lost whole: delete what is left of it.
        foreach (var lost in events.Where(e => e.Kind is ExecutorEventKind.Lost or ExecutorEventKind.NodeFailure && listed.Contains(e.JobId))) await DeleteJobAsync(lost.JobId, cancel);
        return new ExecutorObservation(events, runs);
    }

    // The pods of GpuFleet's Jobs, kept up to date: a list the first time (and after 410 Gone), then a watch from
    // the last version seen. A pod deleted meanwhile is kept, as last seen, among the deleted ones.
    private async Task FollowPodsAsync(CancellationToken cancel)
    {
        if (_resourceVersion is null) await RelistAsync(cancel);
        Exception? failure = null;
        try
        {
            await foreach (var (type, pod) in _client.CoreV1.WatchListNamespacedPodAsync(_options.Namespace, labelSelector: _selector, resourceVersion: _resourceVersion,
                allowWatchBookmarks: true, timeoutSeconds: 1, onError: e => failure ??= e, cancellationToken: cancel))
            {
                if (pod?.Metadata is null) continue;
                // A BOOKMARK carries only a resourceVersion (its pod has no name): all changes up to it were sent.
                _resourceVersion = pod.Metadata.ResourceVersion ?? _resourceVersion;
                if (type == WatchEventType.Bookmark || pod.Metadata.Name is null) continue;
                lock (_pods)
                {
                    if (type == WatchEventType.Deleted)
                    {
                        _pods.Remove(pod.Metadata.Name);
                        _deleted[pod.Metadata.Name] = pod;
                    }
                    else _pods[pod.Metadata.Name] = pod;
                }
            }
        }
        catch (HttpRequestException e) when (e.InnerException is EndOfStreamException)
        {
            // The watch ran out its time with nothing (more) to say: the client library reports the
            // stream's end as an error. Nothing changed since the last version read.
        }
        catch (Exception e) when (e is HttpOperationException or KubernetesException or HttpRequestException or IOException)
        {
            failure = e;
        }
        if (failure is null) return;
        if (Gone(failure))
        {
            // The version is too old to resume from: list again. Pod states are state, not events: nothing is lost.
            Relists++;
            await RelistAsync(cancel);
            return;
        }
        if (failure is HttpRequestException or IOException) throw new ExecutorUnreachableException($"Kubernetes API: {failure.Message}", failure);
        throw new ExecutorUnreachableException($"Kubernetes pod watch failed: {failure.Message}", failure);
    }

    private async Task RelistAsync(CancellationToken cancel)
    {
        var list = await Call(() => _client.CoreV1.ListNamespacedPodAsync(_options.Namespace, labelSelector: _selector, cancellationToken: cancel));
        lock (_pods)
        {
            // A pod known before and absent now was deleted while the watch could not say so: keep it as last seen.
            var present = list.Items.Select(p => p.Metadata.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, pod) in _pods.Where(p => !present.Contains(p.Key))) _deleted[name] = pod;
            _pods.Clear();
            foreach (var pod in list.Items) _pods[pod.Metadata.Name] = pod;
        }
        _resourceVersion = list.Metadata?.ResourceVersion ?? "0";
    }

    private static bool Gone(Exception e) =>
        e is KubernetesException { Status.Code: 410 } || e is HttpOperationException { Response.StatusCode: HttpStatusCode.Gone };

    /// <inheritdoc />
    public async Task<SiteInventory> InventoryAsync(CancellationToken cancel)
    {
        var nodes = await Call(() => _client.CoreV1.ListNodeAsync(cancellationToken: cancel));
        // GPUs that pods this installation did not create hold: every pod not finished, bound to a node, without its labels
        // (another installation's pods are the cluster's other users here).
        var pods = await Call(() => _client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "status.phase!=Succeeded,status.phase!=Failed", cancellationToken: cancel));
        var held = pods.Items.Where(p => p.Spec?.NodeName is not null && IdOf(p.Metadata.Labels) is null)
            .GroupBy(p => p.Spec.NodeName).ToDictionary(g => g.Key, g => g.Sum(GpusOf));
        return new SiteInventory([.. nodes.Items.Select(n => KubernetesNodes.Read(n, held.GetValueOrDefault(n.Metadata.Name)))]);
    }

    private static int GpusOf(V1Pod pod) =>
        pod.Spec?.Containers?.Sum(c => c.Resources?.Limits is { } l && l.TryGetValue(KubernetesLabels.Gpu, out var q) ? (int)q.ToInt64() : 0) ?? 0;

    // The GpuFleet job id of a Job or pod of this installation; null for anything else (the API server filters by the
    // selector already; this keeps a pod of another installation out even where a selector was not applied).
    private long? IdOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(KubernetesLabels.JobId, out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        && (labels.TryGetValue(KubernetesLabels.Installation, out var installation) ? installation : null) == _options.Installation ? id : null;

    // The API server's answers in the contract's words: no answer → unreachable; a refusal → rejected.
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e) when ((int)e.Response.StatusCode is >= 400 and < 500 && e.Response.StatusCode != HttpStatusCode.TooManyRequests)
        {
            throw new ExecutorRejectedException($"Kubernetes API answered {(int)e.Response.StatusCode}: {e.Response.Content}", e);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or TaskCanceledException && e is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
        {
            throw new ExecutorUnreachableException($"Kubernetes API: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
