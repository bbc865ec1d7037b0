using GpuFleet.Core.Scheduling;

namespace GpuFleet.Core.Tenancy;

/// <summary>
/// Who borrows and who lends, now. A project borrows what its running jobs hold beyond its guarantee,
/// per GPU model. Borrowed GPUs of a model are lent by the projects that leave guarantee of that
/// model idle, in proportion to what they leave idle: if projects borrow 30 GPUs of a model and A and
/// B leave 40 and 20 of theirs idle, A lent 20 and B 10. Owners and programmes count the sum of their
/// projects. (Which idle GPU a borrower really sits on is not recorded; this is the attribution the
/// twin's reports and the live service's queue view share.)
/// </summary>
public static class LendingAttribution
{
    /// <summary>
    /// Fills <paramref name="borrowed"/> and <paramref name="lent"/> (one entry per tenant node) with GPUs
    /// borrowed and lent now; entries of nodes without projects below them stay 0.
    /// </summary>
    public static void Compute(FleetScheduler scheduler, int models, Span<double> borrowed, Span<double> lent)
    {
        var count = scheduler.Tenants.Count;
        borrowed[..count].Clear();
        lent[..count].Clear();
        Span<double> borrowedByModel = models <= 64 ? stackalloc double[models] : new double[models];
        Span<double> idleByModel = models <= 64 ? stackalloc double[models] : new double[models];
        borrowedByModel.Clear();
        idleByModel.Clear();
        for (var n = 0; n < count; n++)
        {
            if (!scheduler.Tenants.IsLeaf(n)) continue;
            for (var m = 0; m < models; m++)
            {
                var gap = scheduler.Tenants.Use(n, m) - scheduler.Tenants.Guarantee(n, m);
                if (gap > 0) borrowedByModel[m] += gap;
                else idleByModel[m] -= gap;
            }
        }
        for (var n = 0; n < count; n++)
        {
            if (!scheduler.Tenants.IsLeaf(n)) continue;
            double b = 0, l = 0;
            for (var m = 0; m < models; m++)
            {
                var gap = scheduler.Tenants.Use(n, m) - scheduler.Tenants.Guarantee(n, m);
                if (gap > 0) b += gap;
                else l += Lent(-gap, borrowedByModel[m], idleByModel[m]);
            }
            foreach (var node in scheduler.Tenants.Path(n))
            {
                borrowed[node] += b;
                lent[node] += l;
            }
        }
    }

    /// <summary>
    /// <see cref="Compute"/> for one GPU model: fills <paramref name="borrowed"/> and <paramref name="lent"/>
    /// (one entry per tenant node) with GPUs of <paramref name="model"/> borrowed and lent now.
    /// </summary>
    public static void ComputeForModel(FleetScheduler scheduler, int model, Span<double> borrowed, Span<double> lent)
    {
        var count = scheduler.Tenants.Count;
        borrowed[..count].Clear();
        lent[..count].Clear();
        double borrowedOfModel = 0, idleOfModel = 0;
        for (var n = 0; n < count; n++)
        {
            if (!scheduler.Tenants.IsLeaf(n)) continue;
            var gap = scheduler.Tenants.Use(n, model) - scheduler.Tenants.Guarantee(n, model);
            if (gap > 0) borrowedOfModel += gap;
            else idleOfModel -= gap;
        }
        for (var n = 0; n < count; n++)
        {
            if (!scheduler.Tenants.IsLeaf(n)) continue;
            var gap = scheduler.Tenants.Use(n, model) - scheduler.Tenants.Guarantee(n, model);
            var b = Math.Max(0, gap);
            var l = gap < 0 ? Lent(-gap, borrowedOfModel, idleOfModel) : 0;
            foreach (var node in scheduler.Tenants.Path(n))
            {
                borrowed[node] += b;
                lent[node] += l;
            }
        }
    }

    /// <summary>What a project leaving <paramref name="idle"/> GPUs of a model idle lends: its part of the model's borrowed GPUs.</summary>
    private static double Lent(int idle, double borrowedOfModel, double idleOfModel) =>
        idleOfModel > 0 ? idle * Math.Min(1, borrowedOfModel / idleOfModel) : 0;
}
