using Prometheus;

namespace GpuFleet.Server.Hosting;

/// <summary>The service's Prometheus metrics (served at <c>/metrics</c> with the HTTP request metrics).</summary>
public sealed class FleetMetrics
{
    private readonly CollectorRegistry _registry;

    /// <summary>Creates the metrics in a registry (one per server, so that test servers do not share counters).</summary>
    public FleetMetrics(CollectorRegistry registry)
    {
        _registry = registry;
        var f = Metrics.WithCustomRegistry(registry);
        Pending = f.CreateGauge("gpufleet_jobs_pending", "Jobs waiting in the scheduler.");
        Running = f.CreateGauge("gpufleet_jobs_running", "Jobs running.");
        BusyGpus = f.CreateGauge("gpufleet_gpus_busy", "GPUs held by running jobs.");
        Utilization = f.CreateGauge("gpufleet_utilization", "Busy GPUs over all GPUs (0-1).");
        Placements = f.CreateCounter("gpufleet_placements_total", "Jobs placed.");
        Preemptions = f.CreateCounter("gpufleet_preemptions_total", "Running jobs evicted.");
        Submissions = f.CreateCounter("gpufleet_submissions_total", "Jobs accepted by the API.");
        RefusedRequests = f.CreateCounter("gpufleet_refused_requests_total",
            "Requests refused: 401 (no valid token), 403 (not allowed), 429 (over the rate limit); they are not written to the audit log.",
            new CounterConfiguration { LabelNames = ["status"] });
        Leader = f.CreateGauge("gpufleet_scheduler_leader", "1 while this replica holds the scheduler lease, else 0.");
        SiteReachable = f.CreateGauge("gpufleet_site_reachable", "1 while the site's cluster answers its executor, else 0 (sites with a real cluster only).",
            new GaugeConfiguration { LabelNames = ["site"] });
        string[] gpu = ["site", "node", "gpu", "name"];
        GpuTemperature = f.CreateGauge("gpufleet_gpu_temperature_celsius", "A local site's GPU temperature (nvidia-smi).", new GaugeConfiguration { LabelNames = gpu });
        GpuPower = f.CreateGauge("gpufleet_gpu_power_watts", "A local site's GPU power draw (nvidia-smi).", new GaugeConfiguration { LabelNames = gpu });
        GpuUtilization = f.CreateGauge("gpufleet_gpu_utilization_ratio", "A local site's GPU utilization, 0-1 (nvidia-smi).", new GaugeConfiguration { LabelNames = gpu });
        GpuMemory = f.CreateGauge("gpufleet_gpu_memory_total_bytes", "A local site's GPU memory (nvidia-smi).", new GaugeConfiguration { LabelNames = gpu });
        SiteUnscheduledGpus = f.CreateGauge("gpufleet_site_unscheduled_gpus",
            "GPUs the site's cluster lists that GpuFleet does not schedule (inventory: cluster: nodes added after the server started without a spare of their name, or listed unlike the fleet holds them).",
            new GaugeConfiguration { LabelNames = ["site"] });
        SiteLastContact = f.CreateGauge("gpufleet_site_last_contact_seconds", "When the site's cluster last answered (Unix seconds).",
            new GaugeConfiguration { LabelNames = ["site"] });
        SiteWaitingRuns = f.CreateGauge("gpufleet_site_waiting_runs",
            "Runs GpuFleet launched at the site that its cluster has not started yet (their GPUs count as busy and do nothing).",
            new GaugeConfiguration { LabelNames = ["site"] });
        SiteLongestWait = f.CreateGauge("gpufleet_site_longest_wait_seconds",
            "How long the site's longest-waiting unstarted run has waited for its cluster to start it; 0 when none waits (alert above a minute or two).",
            new GaugeConfiguration { LabelNames = ["site"] });
        string[] service = ["service", "tenant"];
        ServiceRate = f.CreateGauge("gpufleet_service_requests_per_second", "A service's request rate as last reported or scraped (leader only).", new GaugeConfiguration { LabelNames = service });
        ServiceDesiredReplicas = f.CreateGauge("gpufleet_service_desired_replicas", "Replicas a service wants: for its rate, or pinned by hand (leader only).", new GaugeConfiguration { LabelNames = service });
        ServiceRunningReplicas = f.CreateGauge("gpufleet_service_running_replicas", "Replicas of a service placed on GPUs, its standby replicas included (leader only).", new GaugeConfiguration { LabelNames = service });
        ServiceStandbyReplicas = f.CreateGauge("gpufleet_service_standby_replicas",
            "Replicas of a service placed beyond those its rate wants, standing by to take a rise at once (leader only; 0 for a service without standby replicas or pinned by hand).",
            new GaugeConfiguration { LabelNames = service });
        CycleSeconds = f.CreateHistogram("gpufleet_cycle_seconds", "Duration of a scheduling cycle.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
    }

    /// <summary>The registry to serve.</summary>
    public CollectorRegistry Registry => _registry;
    public Gauge Pending { get; }
    public Gauge Running { get; }
    public Gauge BusyGpus { get; }
    public Gauge Utilization { get; }
    public Counter Placements { get; }
    public Counter Preemptions { get; }
    public Counter Submissions { get; }
    /// <summary>Requests refused, by <c>status</c>: a flood shows here before it shows anywhere else.</summary>
    public Counter RefusedRequests { get; }
    public Histogram CycleSeconds { get; }
    public Gauge Leader { get; }
    /// <summary>Per service (labels service, tenant): its request rate.</summary>
    public Gauge ServiceRate { get; }
    /// <summary>Per service: the replicas it wants.</summary>
    public Gauge ServiceDesiredReplicas { get; }
    /// <summary>Per service: its replicas placed.</summary>
    public Gauge ServiceRunningReplicas { get; }
    /// <summary>Per service: of those, the ones placed beyond what its rate wants (standing by).</summary>
    public Gauge ServiceStandbyReplicas { get; }
    public Gauge SiteReachable { get; }
    public Gauge SiteLastContact { get; }
    public Gauge SiteUnscheduledGpus { get; }
    /// <summary>Per site: runs launched that its cluster has not started.</summary>
    public Gauge SiteWaitingRuns { get; }
    /// <summary>Per site: the longest such run's wait so far.</summary>
    public Gauge SiteLongestWait { get; }
    public Gauge GpuTemperature { get; }
    public Gauge GpuPower { get; }
    public Gauge GpuUtilization { get; }
    public Gauge GpuMemory { get; }
}
