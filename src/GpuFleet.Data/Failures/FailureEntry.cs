namespace GpuFleet.Data.Failures;

/// <summary>One line of a failures file: what failed (a node, or every node of a site), when, and for how long.</summary>
/// <param name="AtSeconds">When it fails, in seconds on the trace's clock (that of its submission times).</param>
/// <param name="Target">The node or site as written.</param>
/// <param name="Nodes">The fleet's nodes it takes down, in node order: one for a node, all of a site's for a site.</param>
/// <param name="DurationSeconds">How long they stay down (at least 1).</param>
/// <param name="Line">The line of the file, for messages.</param>
public sealed record FailureEntry(long AtSeconds, string Target, IReadOnlyList<int> Nodes, long DurationSeconds, long Line);
