using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// Answers a request body over <see cref="ServerSettings.MaxRequestBodyBytes"/> with 413 and a problem
/// document, for every endpoint: a declared length at once, before the body is read (with
/// <c>Expect: 100-continue</c> the client then never sends it); a body of unknown length (chunked) when
/// the server's read passes the limit. Other bodies the server cannot read (a broken chunk, one sent
/// too slowly) get their 4xx too: a client's fault is not a server error, and it is not logged as one.
/// </summary>
public sealed class RequestBodyLimit(RequestDelegate next, ServerSettings settings, ILogger<RequestBodyLimit> log)
{
    /// <summary>Middleware entry.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        // An endpoint may take more (a twin run's trace file): the server's own limit is raised for it alone.
        var limit = settings.MaxRequestBodyBytes;
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequestSizeLimit>()?.MaxRequestBodySize is { } own && own > limit)
        {
            limit = own;
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = own;
        }
        if (context.Request.ContentLength > limit)
        {
            await TooLarge(context, limit);
            return;
        }
        try
        {
            await next(context);
        }
        // The server raises this from any read of the body (an endpoint's own or its JSON binding's).
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            log.LogDebug(e, "unreadable request body: {Status}", e.StatusCode);
            context.Response.Clear();
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge) await TooLarge(context, limit);
            else await Results.Problem(statusCode: e.StatusCode, title: "unreadable request body", detail: e.Message).ExecuteAsync(context);
        }
    }

    private static Task TooLarge(HttpContext context, long limit)
    {
        // The unread rest of the body stays on the connection, and the server will not read that much
        // to reuse it: say so, or the client sends its next request on a connection about to close.
        context.Response.Headers.Connection = "close";
        // A browser's form gets a page in words; anything else the API's problem document.
        if (!context.Request.Path.StartsWithSegments("/api") && HttpMethods.IsPost(context.Request.Method))
        {
            var twin = context.Request.Path.StartsWithSegments("/twin");
            return Dashboard.DashboardLayout.Problem(context, StatusCodes.Status413PayloadTooLarge, "Too large",
                $"This form is larger than the {Twin.TwinValidator.Megabytes(limit)} the server takes{(twin ? ": choose a smaller file" : "")}.",
                twin ? "/twin" : "/queue", twin ? "Back to the Twin page" : "Back to the queue").ExecuteAsync(context);
        }
        return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "request body too large",
            detail: $"at most {limit} bytes").ExecuteAsync(context);
    }
}
