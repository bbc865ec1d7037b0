namespace GpuFleet.Core.Tenancy;

/// <summary>
/// One node of the tenant tree: an owner of capacity at the top (national centre, a company), the
/// programmes, organisations and projects under it. Jobs are submitted to leaves.
/// </summary>
/// <param name="Name">Unique name in the tree; a job's tenant names a leaf.</param>
/// <param name="Parent">Parent node, or null for an owner at the top.</param>
/// <param name="Guarantee">GPUs of each model guaranteed to this node (leaves; an inner node's guarantee is the sum of its children's plus its own).</param>
/// <param name="Weight">Fair-share weight among siblings; null means its total guarantee (or 1 without one).</param>
/// <param name="BorrowLimitGpus">At most this many GPUs of a model above the guarantee; null: no limit.</param>
/// <param name="LendLimitGpus">At most this many of its idle guaranteed GPUs of a model are lent out; null: all of them.</param>
/// <param name="LendsToOtherOwners">For a top node: whether tenants of other owners may borrow its idle capacity.</param>
/// <param name="Grants">GPU-hour grants of a project (leaves only); none means not metered.</param>
/// <param name="ReclaimsGuests">
/// For a top node: whether its tenants, within their guarantee, reclaim GPUs of its own sites (sites whose
/// owner is this node) from other owners' tenants, even from work within those tenants' guarantees, which
/// their own owners' sites are there to honour.
/// </param>
public sealed record TenantSpec(
    string Name,
    string? Parent,
    IReadOnlyDictionary<string, int> Guarantee,
    double? Weight = null,
    int? BorrowLimitGpus = null,
    int? LendLimitGpus = null,
    bool LendsToOtherOwners = true,
    IReadOnlyList<Grant>? Grants = null,
    bool ReclaimsGuests = false);
