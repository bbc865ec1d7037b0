using Microsoft.AspNetCore.Http;

namespace GpuFleet.Server.Security;

/// <summary>The one way a request over a limit is answered: 429, <c>Retry-After</c>, and a problem document (counted with every refusal in ServerApp).</summary>
public static class TooManyRequests
{
    /// <summary>Answers <paramref name="context"/> with 429, telling the client to wait <paramref name="retryAfter"/>.</summary>
    public static Task AnswerAsync(HttpContext context, TimeSpan retryAfter, string detail)
    {
        // Whole seconds, rounded up: a client that waits exactly that long finds the window reopened.
        context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "too many requests", detail: detail).ExecuteAsync(context);
    }
}
