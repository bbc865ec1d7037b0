namespace GpuFleet.Core.Tenancy;

/// <summary>A leaf's fair-share key: its path's use over weight, owner level first, then the leaf number.</summary>
internal readonly record struct FairKey(double L0, double L1, double L2, double L3, int Leaf) : IComparable<FairKey>
{
    public int CompareTo(FairKey other)
    {
        var c = L0.CompareTo(other.L0);
        if (c != 0) return c;
        c = L1.CompareTo(other.L1);
        if (c != 0) return c;
        c = L2.CompareTo(other.L2);
        if (c != 0) return c;
        c = L3.CompareTo(other.L3);
        return c != 0 ? c : Leaf.CompareTo(other.Leaf);
    }
}
