using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuFleet.Server.Api;

/// <summary>
/// <c>POST /api/v1/tokens</c> mints a token (shown once); <c>GET /api/v1/tokens</c> lists them (never
/// the secrets); <c>DELETE /api/v1/tokens/{id}</c> revokes one; <c>GET /api/v1/audit</c> reads the audit log (admins).
/// </summary>
public static class TokenEndpoints
{
    /// <summary>Body of <c>POST /api/v1/tokens</c>.</summary>
    public sealed record MintRequest(string? Tenant, string? Role);

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/tokens", Mint);
        app.MapGet("/api/v1/tokens", (HttpContext context, TokenStore tokens) =>
        {
            var caller = CallerAccess.Of(context)!;
            return caller.Role switch
            {
                Role.Admin => Results.Ok(tokens.List(null).Select(View)),
                Role.TenantAdmin => Results.Ok(tokens.List(caller.Tenant).Select(View)),
                _ => Forbidden("only admins and tenant admins list tokens"),
            };
        });
        app.MapDelete("/api/v1/tokens/{id:long}", Revoke);
        app.MapGet("/api/v1/audit", (HttpContext context, TokenStore tokens, int? limit) =>
            CallerAccess.Of(context)!.Role != Role.Admin ? Forbidden("only admins read the audit log")
            : limit is < 1 or > 10_000 ? Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["must be between 1 and 10000"] })
            : Results.Ok(tokens.AuditLog(limit ?? 100)));
    }

    private static async Task<IResult> Mint(MintRequest? request, HttpContext context, TokenStore tokens, ServerSettings settings, TimeProvider clock)
    {
        var caller = CallerAccess.Of(context)!;
        if (caller.Role is not (Role.Admin or Role.TenantAdmin)) return Forbidden("only admins and tenant admins mint tokens");
        var errors = new Dictionary<string, string[]>();
        var role = Role.Member;
        if (request?.Role is null || !Enum.TryParse(request.Role.Replace("-", ""), ignoreCase: true, out role) || int.TryParse(request.Role, out _))
            errors["role"] = ["must be admin, tenant-admin, member or viewer"];
        var leaves = settings.Tenants.Leaves.Select(t => t.Name).ToHashSet();
        var tenant = request?.Tenant;
        if (role != Role.Admin && string.IsNullOrWhiteSpace(tenant)) errors["tenant"] = ["is required for every role but admin"];
        else if (role != Role.Admin && leaves.Count > 0 && !leaves.Contains(tenant!)) errors["tenant"] = [$"unknown tenant '{tenant}'"];
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        if (caller.Role == Role.TenantAdmin && (role == Role.Admin || tenant != caller.Tenant))
            return Forbidden($"a tenant admin mints tokens of tenant '{caller.Tenant}' only, below admin");
        var (token, minted) = await tokens.MintAsync(role, role == Role.Admin ? null : tenant, clock.GetUtcNow());
        return Results.Created($"/api/v1/tokens/{minted.TokenId}", new { id = minted.TokenId, token, role = ToName(minted.Role), tenant = minted.Tenant });
    }

    // A leaked token is revoked by an admin, by its tenant's admin (below admin), or by its holder.
    private static async Task<IResult> Revoke(long id, HttpContext context, TokenStore tokens, TimeProvider clock)
    {
        var caller = CallerAccess.Of(context)!;
        var target = tokens.List(caller.Role == Role.Admin ? null : caller.Tenant).FirstOrDefault(t => t.Id == id);
        var allowed = target is not null && (caller.Role == Role.Admin || target.Id == caller.TokenId
            || (caller.Role == Role.TenantAdmin && target.Role != Role.Admin));
        // Another tenant's token is answered as if it did not exist.
        if (!allowed) return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "token not found", detail: $"no token {id} of yours to revoke");
        if (target!.RevokedAt is not null || !await tokens.RevokeAsync(id, clock.GetUtcNow()))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "token already revoked", detail: $"token {id} was revoked already");
        return Results.Ok(View(tokens.List(target.Tenant).First(t => t.Id == id)));
    }

    private static object View(TokenView t) => new { t.Id, role = ToName(t.Role), t.Tenant, t.CreatedAt, t.RevokedAt };

    private static string ToName(Role role) => role == Role.TenantAdmin ? "tenant-admin" : role.ToString().ToLowerInvariant();

    internal static IResult Forbidden(string detail) => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "forbidden", detail: detail);
}
