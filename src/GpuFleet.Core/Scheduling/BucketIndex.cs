namespace GpuFleet.Core.Scheduling;

/// <summary>
/// Entities (nodes or domains) grouped (by pool) and bucketed by a small integer key (free GPUs),
/// so that "which domain of pool 3 has at least 64 free GPUs, and the fewest such" is a scan over
/// at most <c>maxKey</c> bucket heads instead of every domain.
/// <para>Example: domains A(72 free), B(10), C(40) in one pool; <c>FirstAtLeast(pool, 30)</c> looks at
/// buckets 30, 31, ... and stops at 40: C is the best fit, A stays whole for a bigger gang.</para>
/// Moves are O(1) (swap-remove); picks are deterministic (last entity of a bucket).
/// </summary>
internal sealed class BucketIndex
{
    private readonly int[] _offset;
    private readonly int[] _maxKey;
    private readonly List<int>[] _buckets;
    private readonly int[] _group;
    private readonly int[] _key;
    private readonly int[] _pos;

    public BucketIndex(int[] groupOfEntity, int[] maxKeyOfGroup, int[] initialKey)
    {
        _group = groupOfEntity;
        _maxKey = maxKeyOfGroup;
        _offset = new int[maxKeyOfGroup.Length];
        var total = 0;
        for (var g = 0; g < maxKeyOfGroup.Length; g++)
        {
            _offset[g] = total;
            total += maxKeyOfGroup[g] + 1;
        }
        _buckets = new List<int>[total];
        for (var i = 0; i < total; i++) _buckets[i] = [];
        _key = new int[groupOfEntity.Length];
        _pos = new int[groupOfEntity.Length];
        for (var e = 0; e < groupOfEntity.Length; e++)
        {
            _key[e] = initialKey[e];
            var bucket = _buckets[_offset[_group[e]] + initialKey[e]];
            _pos[e] = bucket.Count;
            bucket.Add(e);
        }
    }

    public int Key(int entity) => _key[entity];

    public void Set(int entity, int key)
    {
        var old = _key[entity];
        if (old == key) return;
        var g = _group[entity];
        var from = _buckets[_offset[g] + old];
        var at = _pos[entity];
        var last = from[^1];
        from[at] = last;
        _pos[last] = at;
        from.RemoveAt(from.Count - 1);
        var to = _buckets[_offset[g] + key];
        _pos[entity] = to.Count;
        to.Add(entity);
        _key[entity] = key;
    }

    /// <summary>The smallest key ≥ <paramref name="atLeast"/> with an entity in group <paramref name="group"/>, or -1.</summary>
    public int FirstAtLeast(int group, int atLeast)
    {
        var max = _maxKey[group];
        var off = _offset[group];
        for (var k = Math.Max(atLeast, 1); k <= max; k++)
            if (_buckets[off + k].Count > 0) return k;
        return -1;
    }

    /// <summary>The largest key above zero with an entity in group <paramref name="group"/>, or -1.</summary>
    public int Highest(int group)
    {
        var off = _offset[group];
        for (var k = _maxKey[group]; k >= 1; k--)
            if (_buckets[off + k].Count > 0) return k;
        return -1;
    }

    public List<int> Bucket(int group, int key) => _buckets[_offset[group] + key];

    public int MaxKey(int group) => _maxKey[group];
}
