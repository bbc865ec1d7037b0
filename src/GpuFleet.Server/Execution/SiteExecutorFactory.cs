using GpuFleet.Core.Fleets;
using GpuFleet.Executors;

namespace GpuFleet.Server.Execution;

/// <summary>Starts the executor of site <paramref name="site"/> of <paramref name="fleet"/> as its fleet file names it (never called for a simulated site).</summary>
public delegate ISiteExecutor SiteExecutorFactory(Fleet fleet, int site);
