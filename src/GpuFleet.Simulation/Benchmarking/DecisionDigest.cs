using System.Buffers.Binary;
using System.Security.Cryptography;
using GpuFleet.Core.Decisions;

namespace GpuFleet.Simulation.Benchmarking;

/// <summary>
/// SHA-256 over the decisions of a run of cycles, in order: each placement (job, model, site, start
/// delay, flags, every GPU allocation) and each preemption (victim, preemptor, GPUs, kind). Two runs of
/// the same workload with the same digest decided the same, so a change to the scheduler's insides
/// can be checked for leaving its decisions alone without keeping every decision.
/// </summary>
public sealed class DecisionDigest : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[8];

    /// <summary>Adds one cycle's decisions.</summary>
    public void Add(CycleResult cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        Write(cycle.Time);
        Write(cycle.Placements.Count);
        foreach (var p in cycle.Placements)
        {
            Write(p.JobId);
            Write(p.Model);
            Write(p.Site);
            Write(p.StartDelaySeconds);
            Write((p.Backfilled ? 1 : 0) | (p.Borrowed ? 2 : 0));
            Write(p.Gpus.Length);
            foreach (var a in p.Gpus)
            {
                Write(a.Node);
                Write((long)a.Mask);
            }
        }
        Write(cycle.Preemptions.Count);
        foreach (var e in cycle.Preemptions)
        {
            Write(e.VictimJobId);
            Write(e.PreemptorJobId);
            Write(e.Gpus);
            Write((int)e.Kind);
            Write(e.GraceSeconds);
        }
    }

    /// <summary>The digest so far, lower-case hex.</summary>
    public string Sha256Hex() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    /// <inheritdoc/>
    public void Dispose() => _hash.Dispose();

    private void Write(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer, value);
        _hash.AppendData(_buffer);
    }
}
