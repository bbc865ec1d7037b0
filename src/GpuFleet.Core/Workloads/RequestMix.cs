namespace GpuFleet.Core.Workloads;

/// <summary>
/// A mix of job requests with fractional GPUs, CPU and memory, drawn with a seeded random source.
/// <para><see cref="Pai2020"/> is fitted to what Alibaba's PAI 2020 trace publishes ("MLaaS in the Wild",
/// NSDI'22; its cluster summary): GPU jobs ask for 0.68 GPUs on average because most ask for part of one.
/// The trace's task table is not available here, so the shape of the mix is an assumption fitted to that one
/// figure: 73% of jobs ask for part of a GPU (⅛ of them 30%, ¼ 30%, ½ 40%: mean 0.3125), 27% for whole GPUs
/// (1: 75%, 2: 13%, 4: 7%, 8: 5%: mean 1.69); 0.73 × 0.3125 + 0.27 × 1.69 = 0.684. A fractional job asks for
/// memory in proportion (80 GB × its fraction: the working sets of an 80 GB-class GPU). CPU and memory per
/// GPU follow PAI's machines (2-GPU nodes with 64–96 cores, 8-GPU nodes with 96 cores and 384–512 GB, from
/// <c>pai_machine_spec.csv</c>): 4, 8 or 16 cores (40/40/20%) and 32, 64 or 128 GB (50/30/20%) per GPU, a
/// fractional job taking its fraction of those (at least 1 core and 4 GB).</para>
/// </summary>
public sealed class RequestMix
{
    private readonly (double Weight, double Fraction)[] _fractions;
    private readonly (double Weight, int Gpus)[] _whole;
    private readonly (double Weight, double Cpus)[] _cpus;
    private readonly (double Weight, double MemoryGb)[] _memory;

    /// <summary>A mix: the share of fractional jobs and the weighted choices of each part.</summary>
    public RequestMix(string name, double fractionalShare, (double Weight, double Fraction)[] fractions, (double Weight, int Gpus)[] whole,
        (double Weight, double Cpus)[] cpusPerGpu, (double Weight, double MemoryGb)[] memoryGbPerGpu, double memoryGbPerWholeGpuOfSlice)
    {
        Name = name;
        FractionalShare = fractionalShare;
        _fractions = fractions;
        _whole = whole;
        _cpus = cpusPerGpu;
        _memory = memoryGbPerGpu;
        SliceMemoryGbPerGpu = memoryGbPerWholeGpuOfSlice;
    }

    /// <summary>The mix fitted to Alibaba PAI 2020 (see the class remarks for the fit and its assumptions).</summary>
    public static RequestMix Pai2020 { get; } = new("pai-2020", 0.73,
        [(0.3, 0.125), (0.3, 0.25), (0.4, 0.5)],
        [(0.75, 1), (0.13, 2), (0.07, 4), (0.05, 8)],
        [(0.4, 4), (0.4, 8), (0.2, 16)],
        [(0.5, 32), (0.3, 64), (0.2, 128)],
        80);

    /// <summary>The mix's name, as <c>--mix</c> takes it.</summary>
    public string Name { get; }
    /// <summary>Share of jobs that ask for part of one GPU.</summary>
    public double FractionalShare { get; }
    /// <summary>GPU memory a fractional job asks for, per whole GPU of compute it asks for.</summary>
    public double SliceMemoryGbPerGpu { get; }

    /// <summary>Mean GPUs asked per job (fractions as stated).</summary>
    public double MeanGpus =>
        FractionalShare * Mean(_fractions.Select(f => (f.Weight, f.Fraction))) + (1 - FractionalShare) * Mean(_whole.Select(w => (w.Weight, (double)w.Gpus)));

    /// <summary>The mix of this name, or null.</summary>
    public static RequestMix? Find(string name) => name.Equals(Pai2020.Name, StringComparison.OrdinalIgnoreCase) || name.Equals("pai", StringComparison.OrdinalIgnoreCase) ? Pai2020 : null;

    /// <summary>Draws one request (four draws from <paramref name="random"/>, whichever kind it is).</summary>
    public RequestShape Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var fractional = random.NextDouble() < FractionalShare;
        var size = random.NextDouble();
        var cpus = Pick(_cpus, random.NextDouble());
        var memory = Pick(_memory, random.NextDouble());
        if (!fractional) return new RequestShape(Pick(_whole, size), null, cpus, memory);
        var fraction = Pick(_fractions, size);
        return new RequestShape(1, new SliceRequest(null, fraction, SliceMemoryGbPerGpu * fraction), Math.Max(1, cpus * fraction), Math.Max(4, memory * fraction));
    }

    private static T Pick<T>((double Weight, T Value)[] choices, double u)
    {
        var total = choices.Sum(c => c.Weight);
        var at = u * total;
        foreach (var (weight, value) in choices)
        {
            if (at < weight) return value;
            at -= weight;
        }
        return choices[^1].Value;
    }

    private static double Mean(IEnumerable<(double Weight, double Value)> choices)
    {
        var list = choices.ToList();
        return list.Sum(c => c.Weight * c.Value) / list.Sum(c => c.Weight);
    }
}
