namespace GpuFleet.Executors;

/// <summary>The cluster answered and refused the request (a job it cannot run as asked).</summary>
public sealed class ExecutorRejectedException(string message, Exception? inner = null) : Exception(message, inner);
