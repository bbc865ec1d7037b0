using GpuFleet.Core.Services;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// Integrates each service's state over virtual time, as <see cref="FleetMeter"/> does the fleet's. A replica
/// counts as running from its placement plus its start delay (eviction grace, launch latency) until it is
/// evicted, lost or ended; those start instants are kept here rather than made events of the clock, so that
/// a service costs the run one event per point of its rate curve. Between two instants every figure is
/// constant, so each is a sum of value × duration:
/// <list type="bullet">
/// <item>under-replicated seconds: running &lt; desired;</item>
/// <item>unserved requests: max(0, rate − running × requests per replica) × dt; served: the rest of the rate;</item>
/// <item>served requests split by where the serving replicas are: the service's region (edge) or not (spilled),
/// within its latency budget or not, in proportion to the replicas serving at each.</item>
/// </list>
/// A service with standby replicas serves with at most the replicas its rate wants, the nearest first (at the
/// edge, then within its budget); those running beyond are standby (counted in <see cref="ServiceState.StandbySeconds"/>). Its scale-up latency runs from the moment
/// its rate wants a replica more to the moment that many run: 0 where a standby replica was running already
/// (a standby replica submitted to refill is no scale-up). Without standby replicas it runs from a replica's
/// submission to its first start, as it always has.
/// </summary>
internal sealed class ServiceMeter
{
    private readonly ServiceState[] _services;
    private readonly long _interval;
    private readonly Dictionary<long, ReplicaRun> _replicas = [];
    // Replicas placed but not yet started, by start time; a stale entry (the replica stopped first) is skipped.
    private readonly PriorityQueue<(long Id, int Version), (long Time, long Id)> _starts = new();
    private readonly List<double[]> _series = [];
    private readonly double[] _bucketReplicas;
    private long _last;
    private long _bucketStart;

    public ServiceMeter(IReadOnlyList<ServiceSpec> services, long start, long interval)
    {
        _services = [.. services.Select(s => new ServiceState(s))];
        _interval = Math.Max(1, interval);
        _bucketReplicas = new double[services.Count];
        _last = start;
        _bucketStart = start;
    }

    /// <summary>Mean running replicas of each service over each sample interval (aligned with <see cref="FleetMeter.Series"/>).</summary>
    public IReadOnlyList<double[]> Series => _series;

    /// <summary>The services, in the order given.</summary>
    public int Count => _services.Length;

    public ServiceState this[int service] => _services[service];

    /// <summary>The service receives <paramref name="rate"/> and wants <paramref name="desired"/> replicas from now on (its first call deploys it).</summary>
    public void SetDemand(int service, double rate, int desired)
    {
        var s = _services[service];
        if (s.Active) s.LargestRise = Math.Max(s.LargestRise, desired - s.Desired);
        s.Active = true;
        s.Rate = rate;
        if (s.Spec.StandbyReplicas > 0) s.Demand(desired, _last);
        s.Desired = desired;
        s.NoteRunning();
    }

    /// <summary>A replica was submitted to scale up at <paramref name="now"/>: its scale-up latency runs from here to its first start.</summary>
    public void Submitted(long id, int service, long now) => _replicas[id] = new ReplicaRun(service, now);

    /// <summary>A replica was placed; it runs from <paramref name="startsAt"/>, at an edge site or not, within the service's latency budget or not.</summary>
    public void Placed(long id, long startsAt, bool edge, bool withinBudget)
    {
        var r = _replicas[id];
        r.Version++;
        (r.Edge, r.WithinBudget) = (edge, withinBudget);
        if (startsAt <= _last) Start(r);
        else _starts.Enqueue((id, r.Version), (startsAt, id));
    }

    /// <summary>A replica stopped (evicted, lost with its node, or ended): it no longer runs, nor will it start.</summary>
    public void Stopped(long id)
    {
        if (!_replicas.TryGetValue(id, out var r)) return;
        r.Version++;
        if (!r.Running) return;
        r.Running = false;
        var s = _services[r.Service];
        s.Running--;
        if (r.Edge) s.EdgeRunning--;
        if (r.WithinBudget) s.WithinRunning--;
        s.NoteRunning();
    }

    /// <summary>A replica was ended: it is no longer tracked.</summary>
    public void Ended(long id)
    {
        Stopped(id);
        _replicas.Remove(id);
    }

    /// <summary>A replica was evicted (it queues again).</summary>
    public void Evicted(long id)
    {
        Stopped(id);
        if (_replicas.TryGetValue(id, out var r)) _services[r.Service].Evictions++;
    }

    /// <summary>Integrates up to <paramref name="time"/>, starting replicas whose start falls in between.</summary>
    public void Advance(long time)
    {
        while (_starts.TryPeek(out var next, out var at) && at.Time <= time)
        {
            _starts.Dequeue();
            Integrate(at.Time);
            if (_replicas.TryGetValue(next.Id, out var r) && r.Version == next.Version) Start(r);
        }
        Integrate(time);
    }

    /// <summary>Closes the last, partial sample.</summary>
    public void Finish()
    {
        if (_last > _bucketStart) CloseBucket(_last);
    }

    private void Start(ReplicaRun r)
    {
        if (r.Running) return;
        r.Running = true;
        var s = _services[r.Service];
        s.Running++;
        if (r.Edge) s.EdgeRunning++;
        if (r.WithinBudget) s.WithinRunning++;
        s.MaxRunning = Math.Max(s.MaxRunning, s.Running);
        s.NoteRunning();
        if (s.Spec.StandbyReplicas > 0) s.MeetDemand(_last);
        if (r.EverStarted) return;
        r.EverStarted = true;
        s.ReplicasStarted++;
        if (s.Spec.StandbyReplicas == 0) s.ScaleUpSeconds.Add(_last - r.SubmittedAt);
    }

    private void Integrate(long time)
    {
        while (time > _last)
        {
            var bucketEnd = _bucketStart + _interval;
            var until = Math.Min(time, bucketEnd);
            var dt = (double)(until - _last);
            for (var i = 0; i < _services.Length; i++)
            {
                var s = _services[i];
                if (!s.Active) continue;
                s.ActiveSeconds += dt;
                s.ReplicaSeconds += s.Running * dt;
                s.DesiredSeconds += s.Desired * dt;
                if (s.Running < s.Desired) s.UnderSeconds += dt;
                // Standby replicas serve nothing: a service serves with at most the replicas its rate wants.
                var serving = ServiceScaler.Serving(s.Running, s.Desired, s.Spec.StandbyReplicas);
                s.StandbySeconds += (s.Running - serving) * dt;
                var capacity = ServiceScaler.Capacity(s.Spec, serving);
                var served = Math.Min(s.Rate, capacity);
                s.Requests += s.Rate * dt;
                s.Unserved += (s.Rate - served) * dt;
                if (capacity < s.Rate) s.ShortSeconds += dt;
                if (serving > 0)
                {
                    // The nearest replicas serve: with standby replicas, those at the edge (within the budget) are
                    // the serving ones first and the rest stand by. Without, every running replica serves alike.
                    s.ServedEdge += served * Math.Min(s.EdgeRunning, serving) / serving * dt;
                    s.ServedWithin += served * Math.Min(s.WithinRunning, serving) / serving * dt;
                }
                _bucketReplicas[i] += s.Running * dt;
            }
            _last = until;
            if (until == bucketEnd) CloseBucket(bucketEnd);
        }
    }

    private void CloseBucket(long end)
    {
        var span = (double)(end - _bucketStart);
        if (span <= 0) return;
        var sample = new double[_bucketReplicas.Length];
        for (var i = 0; i < sample.Length; i++)
        {
            sample[i] = _bucketReplicas[i] / span;
            _bucketReplicas[i] = 0;
        }
        _series.Add(sample);
        _bucketStart = end;
    }

    /// <summary>What is known of one service: its state now and its integrals so far.</summary>
    internal sealed class ServiceState(ServiceSpec spec)
    {
        public ServiceSpec Spec { get; } = spec;
        public bool Active;
        public double Rate;
        public int Desired;
        public int Running;
        public int EdgeRunning;
        public int WithinRunning;
        /// <summary>The fewest replicas running since the first rollout was complete (all desired running); null before.</summary>
        public int? MinRunning;
        public int MaxRunning;
        public double ActiveSeconds;
        public double UnderSeconds;
        /// <summary>Seconds its running replicas could not serve its whole rate (capacity at full load below the rate).</summary>
        public double ShortSeconds;
        public double ReplicaSeconds;
        public double DesiredSeconds;
        public double Requests;
        public double Unserved;
        public double ServedEdge;
        public double ServedWithin;
        public int Evictions;
        public int Rejected;
        public string? RejectedExample;
        public List<double> ScaleUpSeconds { get; } = [];
        /// <summary>Replica-seconds of standby replicas (running beyond those the rate wants).</summary>
        public double StandbySeconds;
        /// <summary>The most replicas its rate wanted more at one moment after its deployment.</summary>
        public int LargestRise;
        /// <summary>Replicas that started, each counted once, at its first start.</summary>
        public int ReplicasStarted;
        // With standby replicas: the replica counts the rate wanted that were not yet running, and since when (lowest first).
        private readonly List<(int Level, long Since)> _unmet = [];

        /// <summary>The rate now wants <paramref name="desired"/> replicas: each count above the last not yet running waits from now.</summary>
        public void Demand(int desired, long now)
        {
            for (var level = Desired + 1; level <= desired; level++)
            {
                if (Running >= level) ScaleUpSeconds.Add(0);
                else _unmet.Add((level, now));
            }
            // A count the rate no longer wants is no scale-up still waiting.
            _unmet.RemoveAll(u => u.Level > desired);
        }

        /// <summary>Replicas started: each count wanted that now runs took this long.</summary>
        public void MeetDemand(long now)
        {
            while (_unmet.Count > 0 && Running >= _unmet[0].Level)
            {
                ScaleUpSeconds.Add(now - _unmet[0].Since);
                _unmet.RemoveAt(0);
            }
        }

        /// <summary>Takes note of the running count after a change: the rollout completes at the first instant all desired replicas run.</summary>
        public void NoteRunning()
        {
            if (MinRunning is { } min) MinRunning = Math.Min(min, Running);
            else if (Active && Running >= Desired) MinRunning = Running;
        }
    }

    private sealed class ReplicaRun(int service, long submittedAt)
    {
        public int Service { get; } = service;
        public long SubmittedAt { get; } = submittedAt;
        public int Version;
        public bool Running;
        public bool EverStarted;
        public bool Edge;
        public bool WithinBudget;
    }
}
