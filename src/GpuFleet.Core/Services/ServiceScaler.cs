namespace GpuFleet.Core.Services;

/// <summary>
/// How many replicas a service needs for a request rate: enough that each runs at its target utilization,
/// within the service's bounds.
/// <para>Example: 1,000 requests/s, 120 per replica, target 0.7 → 1000 / (120 × 0.7) = 11.9 → 12 replicas
/// (between min 2 and max 40). At 0 requests/s: 2, the minimum.</para>
/// </summary>
public static class ServiceScaler
{
    /// <summary>Replicas for <paramref name="requestsPerSecond"/>.</summary>
    public static int DesiredReplicas(ServiceSpec service, double requestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!double.IsFinite(requestsPerSecond) || requestsPerSecond <= 0) return service.MinReplicas;
        var perReplica = service.RequestsPerSecondPerReplica * service.TargetUtilization;
        // A hair below a whole number is that number: 840.0000000001 / 120 / 0.7 must not ask for a replica more.
        var needed = Math.Ceiling(requestsPerSecond / perReplica - 1e-9);
        return (int)Math.Clamp(needed, service.MinReplicas, service.MaxReplicas);
    }

    /// <summary>
    /// Of <paramref name="running"/> replicas, those that serve when the service wants <paramref name="desired"/>: with
    /// standby replicas (<see cref="ServiceSpec.StandbyReplicas"/>), at most the wanted ones, the rest standing by and
    /// serving nothing; without, all of them.
    /// </summary>
    public static int Serving(int running, int desired, int standbyReplicas) => standbyReplicas > 0 ? Math.Min(running, desired) : running;

    /// <summary>Requests per second that <paramref name="replicas"/> running replicas serve at most (at full load).</summary>
    public static double Capacity(ServiceSpec service, int replicas) => replicas * service.RequestsPerSecondPerReplica;

    /// <summary>Null when a service's numbers are usable, else the field and what is wrong with it.</summary>
    public static (string Field, string Problem)? Problem(ServiceSpec service)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (string.IsNullOrWhiteSpace(service.Name)) return ("name", "must not be empty");
        if (string.IsNullOrWhiteSpace(service.Tenant)) return ("tenant", "must not be empty");
        if (service.GpusPerReplica < 1) return ("gpusPerReplica", $"must be at least 1, not {service.GpusPerReplica}");
        if (service.MinReplicas < 0) return ("minReplicas", $"must be at least 0, not {service.MinReplicas}");
        if (service.MaxReplicas < Math.Max(1, service.MinReplicas)) return ("maxReplicas", $"must be at least 1 and at least minReplicas ({service.MinReplicas}), not {service.MaxReplicas}");
        if (!double.IsFinite(service.RequestsPerSecondPerReplica) || service.RequestsPerSecondPerReplica <= 0)
            return ("requestsPerSecondPerReplica", "must be a number above 0");
        if (!double.IsFinite(service.TargetUtilization) || service.TargetUtilization <= 0 || service.TargetUtilization > 1)
            return ("targetUtilization", "must be above 0 and at most 1");
        if (service.StandbyReplicas < 0 || service.StandbyReplicas > service.MaxReplicas)
            return ("standbyReplicas", $"must be at least 0 and at most maxReplicas ({service.MaxReplicas}), not {service.StandbyReplicas}");
        if (service.LatencyBudgetMs is { } budget && (!double.IsFinite(budget) || budget <= 0)) return ("latencyBudgetMs", "must be a number above 0");
        if (service.LatencyBudgetMs is not null && service.Region is null) return ("region", "a latency budget needs the region its users are in");
        return null;
    }
}
