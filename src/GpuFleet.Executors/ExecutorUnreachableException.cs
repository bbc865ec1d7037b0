namespace GpuFleet.Executors;

/// <summary>The executor could not reach its cluster: nothing is known to have changed there.</summary>
public sealed class ExecutorUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
