using GpuFleet.Server.Twin;

namespace GpuFleet.Server.Api;

/// <summary>
/// A twin run as <c>GET /api/v1/twin/runs/{id}</c> answers it: its inputs, where it is (<c>state</c>:
/// queued, running, succeeded, failed, cancelled; <c>progress</c> 0–1 with <c>stage</c> in words; a queued
/// run's <c>position</c>, 1 being next), its times, a failed run's <c>error</c>, and once it has succeeded the
/// URLs of its <c>report</c> (the JSON <c>simulate --json</c> writes) and <c>charts</c> (SVG).
/// </summary>
public sealed record TwinRunView(string Id, string State, double Progress, string Stage, int? Position, string Fleet, string? Tenants,
    IReadOnlyList<string> Policies, string Source, string Trace, double? Days, double? Load, int? Seed, string? Tenant,
    DateTimeOffset SubmittedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error, string? Report, IReadOnlyList<string>? Charts)
{
    /// <summary>The view of <paramref name="run"/> (its place in <paramref name="queue"/> while queued).</summary>
    public static TwinRunView Of(TwinRun run, TwinRunQueue queue)
    {
        var status = run.Status;
        var request = run.Request;
        var trace = request.Trace;
        var generated = trace.Source == TwinTraceSource.Generate;
        var url = $"/api/v1/twin/runs/{run.Id}";
        var succeeded = status.State == TwinRunState.Succeeded;
        return new TwinRunView(run.Id, status.State.ToString().ToLowerInvariant(), Math.Round(status.Progress, 4), status.Stage, queue.Position(run),
            request.FleetName, request.TenantsName, [.. request.Policies.Select(p => p.Name)], trace.Source.ToString().ToLowerInvariant(),
            generated ? trace.ReportName : trace.Name, generated ? trace.Days : null, generated ? trace.Load : null, generated ? trace.Seed : null,
            run.Owner.Tenant, run.SubmittedAt, status.StartedAt, status.FinishedAt, status.Error,
            succeeded ? $"{url}/report" : null, succeeded ? [.. TwinSimulation.ChartFiles.Select(f => $"{url}/charts/{f}")] : null);
    }
}
