using GpuFleet.Server.Security;
using GpuFleet.Server.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace GpuFleet.Server.Api;

/// <summary>
/// The service API under <c>/api/v1/services</c>: create, list, show, report load, scale by hand, delete
/// (docs/services.md). Authenticated like the job API: a tenant's token sees and manages its tenant's services
/// only (another's answers 404), a viewer reads only, an admin all. The API stores what is asked; the leader
/// scales the replicas at its next cycle.
/// </summary>
public static class ServiceEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var services = app.MapGroup("/api/v1/services");
        services.MapPost("", Create);
        services.MapGet("", List);
        services.MapGet("{name}", Get);
        services.MapPost("{name}/load", Load);
        services.MapPost("{name}/scale", Scale);
        services.MapDelete("{name}", Delete);
    }

    private static async Task<IResult> Create(HttpRequest http, ServiceValidator validator, ServiceStore store, TimeProvider clock, IOptions<JsonOptions> json)
    {
        var caller = CallerAccess.Of(http.HttpContext)!;
        if (!caller.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot create services");
        var (request, invalid) = await JsonBody.ReadAsync<CreateServiceRequest>(http, json.Value.SerializerOptions);
        if (invalid is not null) return invalid;
        // A service without a tenant is the token's tenant's.
        if (request is { Tenant: null } && caller.Tenant is not null) request = request with { Tenant = caller.Tenant };
        if (request?.Tenant is { } asked && !caller.Sees(asked))
            return TokenEndpoints.Forbidden($"tenant: a token of tenant '{caller.Tenant}' creates services for '{caller.Tenant}' only");
        var (spec, url, errors) = validator.Validate(request);
        if (spec is null) return Results.ValidationProblem(errors);
        var now = clock.GetUtcNow();
        // The audit entry is committed with the service.
        var stored = await store.CreateAsync(spec, url, now, CallerAccess.AuditOf(http.HttpContext, StatusCodes.Status201Created, now));
        if (stored is null)
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "service exists", detail: $"a service named '{spec.Name}' exists; delete it first or pick another name");
        CallerAccess.MarkAudited(http.HttpContext);
        return Results.Created($"/api/v1/services/{spec.Name}", ServiceView.Of(stored, []));
    }

    private static async Task<IResult> List(HttpContext context, ServiceStore store)
    {
        var caller = CallerAccess.Of(context)!;
        return Results.Ok(new { items = await ServiceView.ListAsync(store, caller.Role == Role.Admin ? null : caller.Tenant, context.RequestAborted) });
    }

    private static async Task<IResult> Get(string name, HttpContext context, ServiceStore store)
    {
        if (await Visible(name, context, store) is not { } service) return NotFound(name);
        return Results.Ok(ServiceView.Of(service, await store.ReplicasAsync(name, context.RequestAborted)));
    }

    private static async Task<IResult> Load(string name, HttpContext context, ServiceStore store, TimeProvider clock, IOptions<JsonOptions> json)
    {
        if (await Visible(name, context, store) is null) return NotFound(name);
        if (!CallerAccess.Of(context)!.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot report load");
        var (request, invalid) = await JsonBody.ReadAsync<ServiceLoadRequest>(context.Request, json.Value.SerializerOptions);
        if (invalid is not null) return invalid;
        if (request?.RequestsPerSecond is not { } rate)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["requestsPerSecond"] = ["is required"] });
        if (!double.IsFinite(rate) || rate < 0)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["requestsPerSecond"] = ["must be a finite number, 0 or more"] });
        var now = clock.GetUtcNow();
        if (!await store.SetLoadAsync(name, rate, now, CallerAccess.AuditOf(context, StatusCodes.Status200OK, now))) return NotFound(name);
        CallerAccess.MarkAudited(context);
        return await Answer(name, context, store);
    }

    private static async Task<IResult> Scale(string name, HttpContext context, ServiceStore store, TimeProvider clock, IOptions<JsonOptions> json)
    {
        if (await Visible(name, context, store) is not { } service) return NotFound(name);
        if (!CallerAccess.Of(context)!.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot scale services");
        var (request, invalid) = await JsonBody.ReadAsync<ServiceScaleRequest>(context.Request, json.Value.SerializerOptions);
        if (invalid is not null) return invalid;
        if (request is not { Given: true })
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["replicas"] = ["is required: a number of replicas, or null to scale by the rate again"] });
        if (request.Replicas is < 0 || request.Replicas > service.Spec.MaxReplicas)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["replicas"] = [$"must be from 0 to the service's maxReplicas ({service.Spec.MaxReplicas}), or null"] });
        var now = clock.GetUtcNow();
        if (!await store.SetPinnedAsync(name, request.Replicas, CallerAccess.AuditOf(context, StatusCodes.Status200OK, now))) return NotFound(name);
        CallerAccess.MarkAudited(context);
        return await Answer(name, context, store);
    }

    private static async Task<IResult> Delete(string name, HttpContext context, ServiceStore store, TimeProvider clock)
    {
        if (await Visible(name, context, store) is null) return NotFound(name);
        if (!CallerAccess.Of(context)!.CanWrite) return TokenEndpoints.Forbidden("a viewer token cannot delete services");
        var now = clock.GetUtcNow();
        if (!await store.DeleteAsync(name, CallerAccess.AuditOf(context, StatusCodes.Status204NoContent, now))) return NotFound(name);
        CallerAccess.MarkAudited(context);
        return Results.NoContent();
    }

    // The service, when it exists and the caller may see it; a name that could not be a service's is none.
    private static async Task<StoredService?> Visible(string name, HttpContext context, ServiceStore store)
    {
        if (ServiceValidator.NameProblem(name) is not null) return null;
        var service = await store.GetAsync(name, context.RequestAborted);
        return service is not null && CallerAccess.Of(context)!.Sees(service.Tenant) ? service : null;
    }

    // The service as it is now, after a change (its replicas move at the leader's next cycle).
    private static async Task<IResult> Answer(string name, HttpContext context, ServiceStore store) =>
        await store.GetAsync(name, CancellationToken.None) is { } s
            ? Results.Ok(ServiceView.Of(s, await store.ReplicasAsync(name, CancellationToken.None)))
            : NotFound(name);

    // Another tenant's service is answered as if it did not exist: names reveal nothing.
    private static IResult NotFound(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "service not found", detail: $"no service '{(ServiceValidator.NameProblem(name) is null ? name : "(invalid name)")}'");
}
