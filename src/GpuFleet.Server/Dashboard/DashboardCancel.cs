using GpuFleet.Server.Jobs;
using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// Cancels a job for a dashboard caller with the rules of <c>DELETE /api/v1/jobs/{id}</c>: another
/// tenant's job does not exist (404), a viewer may not (403), a finished job stays as it is (409); the
/// change is a compare-and-set on the state seen, committed with its audit entry.
/// </summary>
internal static class DashboardCancel
{
    /// <summary>What became of one cancellation: the status the API would answer, and its words.</summary>
    public sealed record Outcome(int Status, string Message);

    /// <summary>Cancels job <paramref name="id"/>; the audit entry records <paramref name="path"/> (the form's, with the job's id).</summary>
    public static async Task<Outcome> CancelAsync(JobStore store, Caller caller, long id, DateTimeOffset now, string path)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var job = await store.GetAsync(id);
            if (job is null || !caller.Sees(job.Tenant)) return new(StatusCodes.Status404NotFound, $"no job {id}");
            if (!caller.CanWrite) return new(StatusCodes.Status403Forbidden, "a viewer token cannot cancel");
            if (JobTransitions.IsFinal(job.State))
                return new(StatusCodes.Status409Conflict, $"job {id} is {job.State.ToString().ToLowerInvariant()}; a finished job cannot be cancelled");
            var audit = new AuditEntry(now, caller.TokenId, caller.Role.ToString(), caller.Tenant, HttpMethods.Post, path, StatusCodes.Status200OK);
            if (await store.TransitionAsync(id, job.State, JobState.Cancelled, now, "cancelled by request", audit))
                return new(StatusCodes.Status200OK, $"job {id} cancelled");
        }
        return new(StatusCodes.Status409Conflict, $"job {id} changed state repeatedly; try again");
    }
}
