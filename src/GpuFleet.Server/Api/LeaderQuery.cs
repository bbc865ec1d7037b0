using System.Net.Http.Json;
using System.Text.Json;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Api;

/// <summary>
/// Why a pending job waits is known only to the replica that schedules. Another replica asks it by
/// repeating the caller's own request against the leader's API — with the caller's token, so the
/// same access rules apply — once (a forwarded request is never forwarded again), with a short
/// timeout; without an answer the job is shown without its reason.
/// </summary>
public sealed class LeaderQuery(JobStore store)
{
    /// <summary>Marks a request a replica forwarded to the leader.</summary>
    public const string ForwardedHeader = "X-GpuFleet-Forwarded";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>The leader's view of job <paramref name="id"/>, or null when it cannot be had.</summary>
    public async Task<JobView?> AskAsync(HttpContext context, long id, JsonSerializerOptions json)
    {
        if (context.Request.Headers.ContainsKey(ForwardedHeader) || (await store.LeaseAsync(context.RequestAborted)).Url is not { } leader) return null;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{leader.TrimEnd('/')}/api/v1/jobs/{id}");
        request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
        request.Headers.Add(ForwardedHeader, "1");
        try
        {
            using var response = await Http.SendAsync(request, context.RequestAborted);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JobView>(json, context.RequestAborted) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }
}
