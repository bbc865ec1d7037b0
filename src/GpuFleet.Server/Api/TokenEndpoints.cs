using System.Globalization;
using System.Text.Json.Serialization;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace GpuFleet.Server.Api;

/// <summary>
/// <c>POST /api/v1/tokens</c> mints a token (shown once); <c>GET /api/v1/tokens</c> lists them (never
/// the secrets); <c>DELETE /api/v1/tokens/{id}</c> revokes one; <c>GET /api/v1/audit</c> reads the audit log (admins).
/// </summary>
public static class TokenEndpoints
{
    /// <summary>Body of <c>POST /api/v1/tokens</c>; another field is refused by name.</summary>
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record MintRequest(string? Tenant, string? Role);

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        // The body is read by Mint itself (a wrong type then names its field); declared for the OpenAPI document.
        app.MapPost("/api/v1/tokens", Mint).Accepts<MintRequest>("application/json");
        app.MapGet("/api/v1/tokens", async (HttpContext context, TokenStore tokens) =>
        {
            var caller = CallerAccess.Of(context)!;
            return caller.Role switch
            {
                Role.Admin => Results.Ok((await tokens.ListAsync(null, context.RequestAborted)).Select(View)),
                Role.TenantAdmin => Results.Ok((await tokens.ListAsync(caller.Tenant, context.RequestAborted)).Select(View)),
                _ => Forbidden("only admins and tenant admins list tokens"),
            };
        });
        app.MapDelete("/api/v1/tokens/{id:long}", Revoke);
        app.MapGet("/api/v1/audit", async (HttpContext context, TokenStore tokens, string? limit) =>
        {
            if (CallerAccess.Of(context)!.Role != Role.Admin) return Forbidden("only admins read the audit log");
            var take = 100;
            if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxAuditPage))
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"must be a whole number from 1 to {MaxAuditPage}"] });
            return Results.Ok(await tokens.AuditLogAsync(take, context.RequestAborted));
        });
    }

    /// <summary>Most audit entries in one answer of <c>GET /api/v1/audit</c> (<c>limit</c>).</summary>
    public const int MaxAuditPage = 10_000;

    // The four roles, by their API names, in any case; nothing else (no numbers, no "tenantadmin").
    private static readonly Dictionary<string, Role> Roles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["admin"] = Role.Admin, ["tenant-admin"] = Role.TenantAdmin, ["member"] = Role.Member, ["viewer"] = Role.Viewer,
    };

    private static async Task<IResult> Mint(HttpRequest http, TokenStore tokens, ServerSettings settings, TimeProvider clock, IOptions<JsonOptions> json)
    {
        var context = http.HttpContext;
        var caller = CallerAccess.Of(context)!;
        if (caller.Role is not (Role.Admin or Role.TenantAdmin)) return Forbidden("only admins and tenant admins mint tokens");
        var (request, invalid) = await JsonBody.ReadAsync<MintRequest>(http, json.Value.SerializerOptions);
        if (invalid is not null) return invalid;
        var errors = new Dictionary<string, string[]>();
        Role? role = request?.Role is { } name && Roles.TryGetValue(name, out var known) ? known : null;
        if (role is null) errors["role"] = ["must be admin, tenant-admin, member or viewer"];
        var tenant = request?.Tenant;
        if (tenant is not null && RequestText.Problem(tenant) is { } badTenant) errors["tenant"] = [badTenant];
        else if (role is not (null or Role.Admin) && string.IsNullOrWhiteSpace(tenant)) errors["tenant"] = ["is required for every role but admin"];
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        // Authorization before existence: a tenant admin learns nothing of which other tenants exist.
        if (caller.Role == Role.TenantAdmin && (role == Role.Admin || tenant != caller.Tenant))
            return Forbidden($"a tenant admin mints tokens of tenant '{caller.Tenant}' only, below admin");
        var leaves = settings.Tenants.Leaves.Select(t => t.Name).ToHashSet();
        if (role != Role.Admin && leaves.Count > 0 && !leaves.Contains(tenant!))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = [$"unknown tenant '{tenant}'"] });
        // The audit entry is committed with the token.
        var now = clock.GetUtcNow();
        var (token, minted) = await tokens.MintAsync(role!.Value, role == Role.Admin ? null : tenant, now, CallerAccess.AuditOf(context, StatusCodes.Status201Created, now));
        CallerAccess.MarkAudited(context);
        return Results.Created($"/api/v1/tokens/{minted.TokenId}", new { id = minted.TokenId, token, role = ToName(minted.Role), tenant = minted.Tenant });
    }

    // A leaked token is revoked by an admin, by its tenant's admin (below admin), or by its holder.
    private static async Task<IResult> Revoke(long id, HttpContext context, TokenStore tokens, TimeProvider clock)
    {
        var caller = CallerAccess.Of(context)!;
        var target = (await tokens.ListAsync(caller.Role == Role.Admin ? null : caller.Tenant, context.RequestAborted)).FirstOrDefault(t => t.Id == id);
        var allowed = target is not null && (caller.Role == Role.Admin || target.Id == caller.TokenId
            || (caller.Role == Role.TenantAdmin && target.Role != Role.Admin));
        // Another tenant's token is answered as if it did not exist.
        if (!allowed) return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "token not found", detail: $"no token {id} of yours to revoke");
        // The audit entry is committed with the revocation.
        var now = clock.GetUtcNow();
        if (target!.RevokedAt is not null || !await tokens.RevokeAsync(id, now, CallerAccess.AuditOf(context, StatusCodes.Status200OK, now)))
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "token already revoked", detail: $"token {id} was revoked already");
        CallerAccess.MarkAudited(context);
        // Audited as answered 200: the answer is built whether or not the client still waits for it.
        return Results.Ok(View((await tokens.ListAsync(target.Tenant, CancellationToken.None)).First(t => t.Id == id)));
    }

    private static object View(TokenView t) => new { t.Id, role = ToName(t.Role), t.Tenant, t.CreatedAt, t.RevokedAt };

    private static string ToName(Role role) => role == Role.TenantAdmin ? "tenant-admin" : role.ToString().ToLowerInvariant();

    internal static IResult Forbidden(string detail) => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "forbidden", detail: detail);
}
