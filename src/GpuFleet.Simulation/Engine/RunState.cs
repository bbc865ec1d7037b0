using GpuFleet.Core.Decisions;

namespace GpuFleet.Simulation.Engine;

/// <summary>What the simulated executor recorded of each job (indexed by position in submission order).</summary>
internal sealed class RunState
{
    public RunState(int jobs)
    {
        Start = new long[jobs];
        Array.Fill(Start, -1);
        End = new long[jobs];
        Placed = new long[jobs];
        Site = new int[jobs];
        Model = new int[jobs];
        Starts = new int[jobs];
        EnergyJ = new double[jobs];
        Cost = new double[jobs];
        Equivalents = new double[jobs];
    }

    /// <summary>GPU-equivalents each job holds while placed: its GPUs, or its slices' shares of compute.</summary>
    public double[] Equivalents { get; }
    /// <summary>Stranded GPUs (free, on nodes no pending job fits for CPU or memory) at each sample.</summary>
    public List<int> StrandedSamples { get; } = [];
    /// <summary>Share of free GPU capacity the request mix could not use, at each sample with capacity free.</summary>
    public List<double> FragmentationSamples { get; } = [];

    /// <summary>When work first began (the wait ends here).</summary>
    public long[] Start { get; }
    /// <summary>When the job finally ended.</summary>
    public long[] End { get; }
    /// <summary>When its current placement was decided (GPUs held from here).</summary>
    public long[] Placed { get; }
    public int[] Site { get; }
    public int[] Model { get; }
    /// <summary>Placements of the job (more than one when it was evicted and started again).</summary>
    public int[] Starts { get; }
    public double[] EnergyJ { get; }
    /// <summary>Energy cost charged to each job, at the price of the site where it ran.</summary>
    public double[] Cost { get; }
    public List<int> Started { get; } = [];
    public List<int> Rejected { get; } = [];
    public List<int> NeverFit { get; } = [];
    public List<string> RejectedExamples { get; } = [];
    public HashSet<int> TimedOut { get; } = [];
    /// <summary>Jobs their users cancelled, waiting or running.</summary>
    public List<int> Cancelled { get; } = [];
    /// <summary>Evictions with the time of the cycle that decided them.</summary>
    public List<(PreemptionDecision Decision, long Time)> Preemptions { get; } = [];
    public long Cycles { get; set; }
    /// <summary>Runs lost to node failures (each queued again).</summary>
    public int FailureRequeues { get; set; }
    /// <summary>Work thrown away by those runs since their last checkpoint, in GPU-seconds.</summary>
    public double FailureLostGpuSeconds { get; set; }
}
