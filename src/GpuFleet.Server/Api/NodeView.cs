namespace GpuFleet.Server.Api;

/// <summary>One node of a job's placement as the API shows it: its name and the GPUs of it the job holds.</summary>
/// <param name="Name">Node name, e.g. <c>philly-p100-0012</c>.</param>
/// <param name="Gpus">GPU numbers within the node, ascending.</param>
public sealed record NodeView(string Name, IReadOnlyList<int> Gpus);
