using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuFleet.Server.Api;

/// <summary><c>POST /api/v1/tokens</c> mints a token (shown once); <c>GET /api/v1/audit</c> reads the audit log (admins).</summary>
public static class TokenEndpoints
{
    /// <summary>Body of <c>POST /api/v1/tokens</c>.</summary>
    public sealed record MintRequest(string? Tenant, string? Role);

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/tokens", Mint);
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
        return Results.Created($"/api/v1/tokens/{minted.TokenId}", new { token, role = ToName(minted.Role), tenant = minted.Tenant });
    }

    private static string ToName(Role role) => role == Role.TenantAdmin ? "tenant-admin" : role.ToString().ToLowerInvariant();

    internal static IResult Forbidden(string detail) => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "forbidden", detail: detail);
}
