using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Engine;

/// <summary>
/// Integrates the fleet's state over virtual time. Between two events the state is constant, so
/// every figure is a sum of value × duration: busy GPU-seconds, idle GPU-seconds while a job waits,
/// fragmented free GPU-seconds, GPU-seconds out of service, per-site energy, and per-interval averages for the time series.
/// </summary>
internal sealed class FleetMeter
{
    private readonly Fleet _fleet;
    private readonly long _interval;
    private readonly int[] _busyByPool;
    private readonly double[] _sitePowerW;
    private readonly double[] _siteEnergyJ;
    private readonly double[] _sitePeakW;
    private readonly double[] _siteBusyGpuSeconds;
    private readonly List<TimeSeriesSample> _series = [];
    private long _last;
    private int _busy;
    private int _free;
    private int _outOfService;
    private int _freeInEmptyNodes;
    private int _pending;
    private double _totalPowerW;
    // Current sample interval accumulators.
    private long _bucketStart;
    private double _bucketBusy, _bucketQueue, _bucketPower;
    private readonly double[] _bucketSitePower;

    public FleetMeter(Fleet fleet, long start, long interval)
    {
        _fleet = fleet;
        _interval = Math.Max(1, interval);
        _busyByPool = new int[fleet.PoolCount];
        _sitePowerW = new double[fleet.Sites.Count];
        _siteEnergyJ = new double[fleet.Sites.Count];
        _sitePeakW = new double[fleet.Sites.Count];
        _siteBusyGpuSeconds = new double[fleet.Sites.Count];
        _bucketSitePower = new double[fleet.Sites.Count];
        _last = start;
        _bucketStart = start;
        _free = fleet.TotalGpus;
        _freeInEmptyNodes = fleet.TotalGpus;
        Observe(null, 0);
    }

    public double BusyGpuSeconds { get; private set; }
    public double IdleGpuSecondsWhileWaiting { get; private set; }
    public double FreeGpuSeconds { get; private set; }
    public double FragmentedGpuSeconds { get; private set; }
    /// <summary>GPU-seconds of GPUs out of service (failed nodes): neither busy nor free.</summary>
    public double OutOfServiceGpuSeconds { get; private set; }
    public double PeakPowerW { get; private set; }
    /// <summary>Observations at which a site drew more than its cap.</summary>
    public int CapViolations { get; private set; }
    public IReadOnlyList<TimeSeriesSample> Series => _series;
    public double SiteEnergyJ(int site) => _siteEnergyJ[site];
    public double SitePeakW(int site) => _sitePeakW[site];
    public double SiteBusyGpuSeconds(int site) => _siteBusyGpuSeconds[site];

    /// <summary>Integrates the current state from the last call up to <paramref name="time"/>.</summary>
    public void Advance(long time)
    {
        while (time > _last)
        {
            var bucketEnd = _bucketStart + _interval;
            var until = Math.Min(time, bucketEnd);
            var dt = (double)(until - _last);
            BusyGpuSeconds += _busy * dt;
            FreeGpuSeconds += _free * dt;
            FragmentedGpuSeconds += (_free - _freeInEmptyNodes) * dt;
            OutOfServiceGpuSeconds += _outOfService * dt;
            if (_pending > 0) IdleGpuSecondsWhileWaiting += _free * dt;
            for (var s = 0; s < _sitePowerW.Length; s++)
            {
                _siteEnergyJ[s] += _sitePowerW[s] * dt;
                _bucketSitePower[s] += _sitePowerW[s] * dt;
            }
            for (var p = 0; p < _busyByPool.Length; p++) _siteBusyGpuSeconds[_fleet.PoolSite(p)] += _busyByPool[p] * dt;
            _bucketBusy += _busy * dt;
            _bucketQueue += _pending * dt;
            _bucketPower += _totalPowerW * dt;
            _last = until;
            if (until == bucketEnd) CloseBucket(bucketEnd);
        }
    }

    /// <summary>Reads the scheduler's state after the events at the current time, with the GPUs out of service now.</summary>
    public void Observe(FleetScheduler? scheduler, int pending, int outOfService = 0)
    {
        _pending = pending;
        _outOfService = outOfService;
        if (scheduler is not null)
        {
            scheduler.BusyByPool.CopyTo(_busyByPool);
            _free = 0;
            _freeInEmptyNodes = 0;
            for (var p = 0; p < _busyByPool.Length; p++)
            {
                _free += scheduler.FreeGpus(p);
                _freeInEmptyNodes += scheduler.FreeInEmptyNodes(p);
            }
        }
        _busy = 0;
        foreach (var b in _busyByPool) _busy += b;
        _totalPowerW = 0;
        for (var s = 0; s < _sitePowerW.Length; s++)
        {
            _sitePowerW[s] = _fleet.SitePowerWatts(s, _busyByPool);
            _sitePeakW[s] = Math.Max(_sitePeakW[s], _sitePowerW[s]);
            if (_sitePowerW[s] > _fleet.Sites[s].PowerCapMw * 1e6 * (1 + 1e-9)) CapViolations++;
            _totalPowerW += _sitePowerW[s];
        }
        PeakPowerW = Math.Max(PeakPowerW, _totalPowerW);
    }

    /// <summary>Closes the last, partial sample.</summary>
    public void Finish()
    {
        if (_last > _bucketStart) CloseBucket(_last);
    }

    private void CloseBucket(long end)
    {
        var span = (double)(end - _bucketStart);
        if (span <= 0) return;
        var sites = new double[_bucketSitePower.Length];
        for (var s = 0; s < sites.Length; s++)
        {
            sites[s] = _bucketSitePower[s] / span / 1e6;
            _bucketSitePower[s] = 0;
        }
        _series.Add(new TimeSeriesSample(_bucketStart, _bucketBusy / span / _fleet.TotalGpus, _bucketQueue / span, _bucketPower / span / 1e6, sites));
        _bucketBusy = _bucketQueue = _bucketPower = 0;
        _bucketStart = end;
    }
}
