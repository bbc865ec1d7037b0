namespace GpuFleet.Server.Twin;

/// <summary>
/// Carries out one twin run on the worker's thread: reports its progress (share done 0–1, what it does in
/// words) as it goes and stops with <see cref="OperationCanceledException"/> when <paramref name="cancel"/> fires.
/// The server's is <see cref="TwinSimulation.Run"/>; tests may hold a run at a point of their choosing.
/// </summary>
public delegate TwinResult TwinRunner(TwinRequest request, Action<double, string> progress, CancellationToken cancel);
