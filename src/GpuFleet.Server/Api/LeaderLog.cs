using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Api;

/// <summary>
/// A local site's job logs lie on the machine whose replica runs the local executor: the leader. A replica that
/// does not lead and has no such log in its own log directory asks the leader for it by repeating the caller's own
/// request against the leader's API — with the caller's token, so the leader applies the same access rules — once (a
/// forwarded request is never forwarded again), and streams the answer back as it comes. When the leader does not
/// answer, the caller gets 503 with a problem that says so, and may try again.
/// </summary>
/// <remarks>
/// Example: replica B (a follower) is asked <c>GET /api/v1/jobs/42/log?offset=100</c> by a member of tenant a. B checks
/// that job 42 is tenant a's (else 404, asking no one), finds no <c>42.log</c> of its own, reads the leader's address
/// from the lease (<c>http://a:5080</c>, its <c>--advertise-url</c>) and answers what <c>http://a:5080/api/v1/jobs/42/log?offset=100</c>
/// answers: the log from byte 100, or the leader's 404 "log not found". If a:5080 refuses the connection or has not
/// answered within 10 s, B answers 503 "log's replica not reachable".
/// </remarks>
public sealed class LeaderLog(JobStore store)
{
    private static readonly TimeSpan AnswerTime = TimeSpan.FromSeconds(10);

    // No overall timeout: a long log streams for as long as it takes; the wait for the leader's answer is bounded per request.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Whether this request may be forwarded (it was not forwarded to this replica already).</summary>
    public static bool MayForward(HttpContext context) => !context.Request.Headers.ContainsKey(LeaderQuery.ForwardedHeader);

    /// <summary>The leader's answer to this request for job <paramref name="id"/>'s log from byte <paramref name="offset"/>, or 503 when it cannot be had.</summary>
    public async Task<IResult> AskAsync(HttpContext context, long id, long offset)
    {
        var leader = (await store.LeaseAsync(context.RequestAborted)).Url;
        if (leader is null)
            return Unreachable(id, "no replica has said where it can be reached yet (the leader publishes its address within seconds of taking the lease)");
        var request = new HttpRequestMessage(HttpMethod.Get, $"{leader.TrimEnd('/')}/api/v1/jobs/{id}/log?offset={offset}");
        request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
        request.Headers.Add(LeaderQuery.ForwardedHeader, "1");
        HttpResponseMessage response;
        using (var answer = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            answer.CancelAfter(AnswerTime);
            try
            {
                response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, answer.Token);
            }
            catch (Exception e) when (e is HttpRequestException || e is OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
            {
                request.Dispose();
                return Unreachable(id, $"the leading replica at {leader} {(e is HttpRequestException ? $"cannot be reached: {e.Message}" : $"did not answer within {AnswerTime.TotalSeconds:0} s")}");
            }
        }
        context.Response.RegisterForDispose(request);
        context.Response.RegisterForDispose(response);
        // The leader's answer as it is: the log as text, or its problem (404 log not found, 401 for a token it no longer takes).
        var type = response.Content.Headers.ContentType?.ToString() ?? "text/plain; charset=utf-8";
        return new Relayed((int)response.StatusCode, type, response.Content);
    }

    private static IResult Unreachable(long id, string why)
    {
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "log's replica not reachable",
            detail: $"job {id}'s log is kept by the replica that runs the local executor; {why}. Try again.");
    }

    // Streams another replica's answer to the client with its status and type.
    private sealed class Relayed(int status, string type, HttpContent content) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = type;
            await using var body = await content.ReadAsStreamAsync(context.RequestAborted);
            await body.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
