using GpuFleet.Core.Fleets;
using GpuFleet.Core.Tenancy;
using GpuFleet.Data.Yaml;

namespace GpuFleet.Data.Tenancy;

/// <summary>
/// Loads a tenant tree from YAML (<c>tenants/*.yaml</c>; the format is described in
/// <c>docs/tenant-format.md</c>): owners with nested <c>children</c>, guarantees per GPU model,
/// weights, borrow and lend limits, grants, priority classes and billing weights. Every error names
/// the file, the line and the field; with a fleet given, GPU model names are checked against it.
/// </summary>
public static class TenantFile
{
    /// <summary>Reads and validates a tenant file.</summary>
    /// <exception cref="DataFileException">The file is missing, is not valid YAML, or has a bad field.</exception>
    public static TenantTree Load(string path, Fleet? fleet = null)
    {
        if (!File.Exists(path)) throw new DataFileException(path, 0, "file", "not found");
        using var reader = new StreamReader(path);
        return Parse(reader, path, fleet);
    }

    /// <summary>Parses tenant YAML; <paramref name="file"/> is used in error messages.</summary>
    public static TenantTree Parse(TextReader text, string file, Fleet? fleet = null)
    {
        var root = YamlMap.Document(text, file);
        root.Allow("name", "description");
        var billing = root.NumberMap("billingWeights", min: 0, exclusiveMin: true);
        foreach (var model in billing.Keys) CheckModel(fleet, root, "billingWeights", model);
        var classes = root.List("priorityClasses", required: false).Select(c =>
        {
            var pc = new PriorityClass(c.Text("name"), c.Integer("priority"), c.Bool("preemptible", false),
                c.Seconds("minRuntime", 600), c.Seconds("grace", 60), c.Bool("bestEffort", false));
            c.Allow("notes");
            c.RejectUnknown();
            return pc;
        }).ToList();
        var defaultClass = root.Text("defaultClass", "normal");
        var tenants = new List<TenantSpec>();
        var lines = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var owner in root.List("tenants")) Read(owner, null, tenants, lines, fleet);
        root.RejectUnknown();
        if (tenants.Count == 0) throw root.Error("tenants", "at least one tenant is required");
        try
        {
            return new TenantTree(tenants, classes, billing, defaultClass);
        }
        catch (ArgumentException e)
        {
            // The core names the tenant; point at its line.
            var line = lines.Where(kv => e.Message.StartsWith($"tenants.{kv.Key}.", StringComparison.Ordinal) || e.Message.StartsWith($"tenants.{kv.Key}:", StringComparison.Ordinal))
                .Select(kv => kv.Value).FirstOrDefault();
            var colon = e.Message.IndexOf(": ", StringComparison.Ordinal);
            throw new DataFileException(file, line, colon > 0 ? e.Message[..colon] : "tenants", colon > 0 ? e.Message[(colon + 2)..] : e.Message);
        }
    }

    private static void Read(YamlMap m, string? parent, List<TenantSpec> into, Dictionary<string, long> lines, Fleet? fleet)
    {
        var name = m.Text("name");
        var guarantee = m.IntegerMap("guarantee");
        foreach (var model in guarantee.Keys) CheckModel(fleet, m, "guarantee", model);
        var grants = m.List("grants", required: false).Select(g =>
        {
            var when = g.Text("whenExhausted", "hold");
            var grant = new Grant(g.Text("name"), g.Number("gpuHours", min: 0), g.Time("start", 0), g.Time("end"),
                when switch
                {
                    "hold" => GrantExhaustion.Hold,
                    "best-effort" => GrantExhaustion.BestEffort,
                    _ => throw g.Error("whenExhausted", $"must be 'hold' or 'best-effort', not '{when}'"),
                });
            g.Allow("notes", "tier");
            g.RejectUnknown();
            if (grant.EndTime <= grant.StartTime) throw g.Error("end", "must be after its start");
            return grant;
        }).ToList();
        var spec = new TenantSpec(name, parent, guarantee,
            m.OptionalNumber("weight", min: 0, exclusiveMin: true),
            m.OptionalInteger("borrowLimitGpus", min: 0),
            m.OptionalInteger("lendLimitGpus", min: 0),
            m.Bool("lendsToOtherOwners", true),
            grants,
            m.Bool("reclaimsGuests", false));
        foreach (var ownersOnly in new[] { "lendsToOtherOwners", "reclaimsGuests" })
            if (parent is not null && m.Has(ownersOnly))
                throw m.Error(ownersOnly, "applies to owners (top-level tenants) only");
        if (spec.ReclaimsGuests && fleet is not null && !fleet.Sites.Any(s => s.Owner == name))
            throw m.Error("reclaimsGuests", $"'{name}' owns no site of the fleet (a site's owner names it)");
        lines.TryAdd(name, m.LineOf("name"));
        into.Add(spec);
        var children = m.List("children", required: false).ToList();
        m.Allow("notes", "description");
        m.RejectUnknown();
        foreach (var child in children) Read(child, name, into, lines, fleet);
    }

    private static void CheckModel(Fleet? fleet, YamlMap m, string key, string model)
    {
        if (fleet is not null && fleet.ModelIndex(model) < 0)
            throw m.Error(key, $"unknown GPU model '{model}' (the fleet has {string.Join(", ", fleet.Models.Select(x => x.Name))})");
    }
}
