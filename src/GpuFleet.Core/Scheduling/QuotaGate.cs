using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The part of a job's class its tenant's quota allows now: the models on which it stays within its
/// guarantee (safe from reclaim), else those it may borrow, else none with the reason. Answers are
/// memoised per tenant and class until use changes or a reservation holds GPUs (<see cref="Invalidate"/>),
/// so a long queue of jobs that cannot start costs a lookup each.
/// </summary>
internal sealed class QuotaGate(Fleet fleet, ClusterState state, TenantLedger ledger, JobClassCatalog classes, QuotaMode mode)
{
    private readonly Dictionary<(int Tenant, int Class, bool BestEffort), QuotaAnswer> _memo = [];

    /// <summary>Bumped whenever an answer may change: a job starts or stops, or a reservation holds GPUs.</summary>
    public long Version { get; private set; }

    public void Invalidate() => Version++;

    /// <summary>Puts the version back after a change was undone exactly (no answer was asked for in between).</summary>
    public void RestoreVersion(long version) => Version = version;

    /// <summary>Whether the tenant could ever run a member of the class: within its guarantee (confined), or its guarantee plus borrowing limits (lending).</summary>
    public bool FitsSomeQuota(int leaf, JobClass jobClass)
    {
        foreach (var p in jobClass.Pools)
            if (ledger.MostRunnable(leaf, fleet.PoolModel(p), lending: mode == QuotaMode.Lending) >= jobClass.UnitsByModel[fleet.PoolModel(p)]) return true;
        return false;
    }

    public QuotaAnswer For(JobRecord job, bool bestEffort)
    {
        var key = (job.Tenant, job.Class.Id, bestEffort);
        if (_memo.TryGetValue(key, out var memo) && memo.Version == Version) return memo;
        var c = job.Class;
        ulong within = 0, borrow = 0;
        var refusal = mode == QuotaMode.Confined ? PendingReason.GuaranteeInUse : PendingReason.KeptForLenders;
        for (var bits = c.ModelMask; bits != 0; bits &= bits - 1)
        {
            var m = System.Numerics.BitOperations.TrailingZeroCount(bits);
            if (!bestEffort && ledger.WithinGuarantee(job.Tenant, m, c.UnitsByModel[m]))
            {
                within |= 1UL << m;
                continue;
            }
            if (mode == QuotaMode.Confined) continue;
            switch (ledger.CheckBorrow(job.Tenant, m, c.UnitsByModel[m], ledger.LendRestricted ? ModelUsable(m) : 0))
            {
                case QuotaVerdict.Allowed: borrow |= 1UL << m; break;
                case QuotaVerdict.BorrowLimit: refusal = PendingReason.BorrowLimitReached; break;
            }
        }
        // Within the guarantee on some model: run there, safe from reclaim; otherwise borrow.
        var allowed = within != 0 ? within : borrow;
        var part = allowed == 0 ? null : allowed == c.ModelMask ? c : classes.ClassFor(c.Gpus, allowed, c.Need, c.Site, c.DataSite, c.Demand, c.Slice, c.Sites);
        var answer = new QuotaAnswer(Version, part?.ImpossibleReason is null ? part : null, within != 0, refusal);
        _memo[key] = answer;
        return answer;
    }

    /// <summary>GPUs of a model that may start now, fleet-wide.</summary>
    private int ModelUsable(int model)
    {
        var sum = 0;
        for (var p = 0; p < fleet.PoolCount; p++) if (fleet.PoolModel(p) == model) sum += state.PoolUsable(p);
        return sum;
    }
}
