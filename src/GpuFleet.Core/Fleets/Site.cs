namespace GpuFleet.Core.Fleets;

/// <summary>A data centre: one power budget, one owner.</summary>
/// <param name="Name">Unique site name.</param>
/// <param name="Owner">Who owns the capacity (government, Samsung, ...).</param>
/// <param name="Region">Where it is.</param>
/// <param name="PowerCapMw">Facility power budget in MW (IT load × PUE must stay below it).</param>
/// <param name="Pue">Power usage effectiveness: facility power over IT power.</param>
public sealed record Site(string Name, string Owner, string Region, double PowerCapMw, double Pue)
{
    /// <summary>Price of a MWh of facility energy at this site, for the cost charged to each job (0: not priced).</summary>
    public double PricePerMwh { get; init; }

    /// <summary>What carries out placements at this site in the live service (the twin simulates every site).</summary>
    public SiteExecutorSpec Executor { get; init; } = SiteExecutorSpec.Simulated;

    /// <summary>
    /// Whether the site takes only jobs that name it (their <c>site</c>, or one of their <c>sites</c>), as a
    /// tainted Kubernetes node takes only pods that tolerate it: an edge site kept for the services of its
    /// region, whose replicas list it. Other jobs never go there, even when it is idle.
    /// </summary>
    public bool Dedicated { get; init; }
}
