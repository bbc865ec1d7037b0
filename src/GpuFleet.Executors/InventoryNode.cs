namespace GpuFleet.Executors;

/// <summary>One node as the cluster reports it.</summary>
/// <param name="Name">The cluster's name for it.</param>
/// <param name="Gpus">GPUs it has.</param>
/// <param name="Model">GPU model (a GRES type, a <c>nvidia.com/gpu.product</c> label, <c>nvidia-smi</c>'s name); null when the cluster does not say.</param>
/// <param name="State">Whether new work may go there.</param>
/// <param name="GpusHeldByOthers">GPUs taken by work GpuFleet did not start (the cluster's own users).</param>
/// <param name="NvlinkDomain">The NVLink domain the cluster puts it in (Kubernetes: the <c>nvidia.com/gpu.clique</c> label of a GB200 NVL72 node); null when it says none.</param>
/// <param name="Cpus">CPU cores jobs may use there (Slurm's <c>CPUs</c>, Kubernetes' allocatable <c>cpu</c> in whole cores); 0 when the cluster does not say.</param>
/// <param name="MemoryGb">Memory jobs may use there, in whole GB of 1024 MiB (Slurm's <c>RealMemory</c>, Kubernetes' allocatable <c>memory</c>); 0 when the cluster does not say.</param>
public sealed record InventoryNode(string Name, int Gpus, string? Model, InventoryNodeState State, int GpusHeldByOthers = 0, string? NvlinkDomain = null,
    int Cpus = 0, int MemoryGb = 0);
