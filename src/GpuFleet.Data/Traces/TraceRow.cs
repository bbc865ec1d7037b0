namespace GpuFleet.Data.Traces;

/// <summary>One job as read from a foreign trace, before numbering.</summary>
internal readonly record struct TraceRow(long Submit, long Runtime, int Gpus, string Tenant, long Line);
