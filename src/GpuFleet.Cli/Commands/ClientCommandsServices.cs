using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using YamlDotNet.Serialization;

namespace GpuFleet.Cli.Commands;

// gpufleet service create|list|show|scale|load|delete: inference services on a server (docs/services.md).
internal static partial class ClientCommands
{
    private static Command Service()
    {
        var service = new Command("service", "Inference services: create, list, show, scale, report load, delete.");
        service.Subcommands.Add(ServiceCreate());
        service.Subcommands.Add(Client("list", "List services: rate, replicas wanted, running and waiting.", [], (_, api) => api.Get("/api/v1/services"), (_, page) =>
        {
            var table = new Table().AddColumns("name", "tenant", "requests/s", "desired", "running", "pending", "pinned");
            foreach (var s in page.GetProperty("items").EnumerateArray())
                table.AddRow(new[] { Text(s, "name"), Text(s, "tenant"), Rate(s), Text(s, "desiredReplicas"), Text(s, "runningReplicas"), Text(s, "pendingReplicas"),
                    Text(s, "pinnedReplicas") }.Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
        }));
        var showName = ServiceName();
        service.Subcommands.Add(Client("show", "Show a service: its spec, rate, replicas with their placements, and its latest scale decisions.", [showName],
            (r, api) => api.Get(ServicePath(r.GetValue(showName)!)), (_, s) => ShowService(s)));
        service.Subcommands.Add(ServiceScale());
        var loadName = ServiceName();
        var rps = new Option<double?>("--rps") { Description = "Requests per second now (0 or more)." };
        service.Subcommands.Add(Client("load", "Report a service's request rate (clears a pinned replica count).", [loadName, rps], (r, api) =>
        {
            if (r.GetValue(rps) is not { } rate) throw new CliUsageException("--rps: required (requests per second, 0 or more)");
            return api.Post(ServicePath(r.GetValue(loadName)!) + "/load", new Dictionary<string, object?> { ["requestsPerSecond"] = rate });
        }, (_, s) => Console.WriteLine($"service {Text(s, "name")}: {Rate(s)} requests/s, {Text(s, "desiredReplicas")} replicas wanted")));
        var deleteName = ServiceName();
        service.Subcommands.Add(Client("delete", "Delete a service: its replicas are ended.", [deleteName], (r, api) =>
        {
            api.Delete(ServicePath(r.GetValue(deleteName)!));
            Console.WriteLine($"service {r.GetValue(deleteName)} deleted");
            return null;
        }, (_, _) => { }));
        return service;
    }

    private static Argument<string> ServiceName() => new("name") { Description = "Service name." };

    private static string ServicePath(string name) => $"/api/v1/services/{Uri.EscapeDataString(name)}";

    private static Command ServiceScale()
    {
        var name = ServiceName();
        var replicas = new Option<int?>("--replicas") { Description = "Pin the replica count (until the next load report)." };
        var auto = new Option<bool>("--auto") { Description = "Clear a pinned count: scale by the request rate again." };
        return Client("scale", "Pin a service's replica count by hand, or clear the pin (--auto).", [name, replicas, auto], (r, api) =>
        {
            var pinned = r.GetValue(replicas);
            if (pinned is null == !r.GetValue(auto)) throw new CliUsageException("give --replicas N or --auto, not both and not neither");
            return api.Post(ServicePath(r.GetValue(name)!) + "/scale", new Dictionary<string, object?> { ["replicas"] = pinned });
        }, (_, s) => Console.WriteLine($"service {Text(s, "name")}: {Text(s, "desiredReplicas")} replicas wanted"
            + (Text(s, "pinnedReplicas") is { Length: > 0 } p ? $" (pinned to {p})" : " (by its rate)")));
    }

    private static Command ServiceCreate()
    {
        var file = new Option<string?>("--file") { Description = "YAML service file with the API's fields (flags override it)." };
        var name = new Option<string?>("--name") { Description = "Service name." };
        var tenant = new Option<string?>("--tenant") { Description = "Tenant (default: the token's)." };
        var gpus = new Option<int?>("--gpus-per-replica") { Description = "GPUs (or slices) of one replica (default 1)." };
        var min = new Option<int?>("--min") { Description = "Fewest replicas (default 0)." };
        var max = new Option<int?>("--max") { Description = "Most replicas." };
        var perReplica = new Option<double?>("--rps-per-replica") { Description = "Requests per second one replica serves at full load." };
        var target = new Option<double?>("--target") { Description = "Target utilization of a replica, in (0, 1] (default 1)." };
        var standby = new Option<int?>("--standby") { Description = "Replicas held ready beyond those the rate needs, so that a scale-up has one at once (default 0)." };
        return Client("create", "Create a service: gpufleet service create --name chat --tenant lab --max 8 --rps-per-replica 120 --target 0.7",
            [file, name, tenant, gpus, min, max, perReplica, target, standby], (r, api) =>
        {
            var body = r.GetValue(file) is { } path ? ServiceFile(path) : [];
            if (r.GetValue(name) is { } n) body["name"] = n;
            if (r.GetValue(tenant) is { } t) body["tenant"] = t;
            if (r.GetValue(gpus) is { } g) body["gpusPerReplica"] = g;
            if (r.GetValue(min) is { } lo) body["minReplicas"] = lo;
            if (r.GetValue(max) is { } hi) body["maxReplicas"] = hi;
            if (r.GetValue(perReplica) is { } rps) body["requestsPerSecondPerReplica"] = rps;
            if (r.GetValue(target) is { } u) body["targetUtilization"] = u;
            if (r.GetValue(standby) is { } spare) body["standbyReplicas"] = spare;
            return api.Post("/api/v1/services", body);
        }, (_, s) => Console.WriteLine($"service {Text(s, "name")} created: {Text(s, "desiredReplicas")} replicas wanted"));
    }

    // The service file's keys are the API's fields, no others.
    private static readonly string[] ServiceFileKeys =
        [.. JsonSerializerOptions.Web.GetTypeInfo(typeof(GpuFleet.Server.Api.CreateServiceRequest)).Properties.Select(p => p.Name)];

    // A YAML service file as the API's JSON body: whole numbers and numbers as numbers, the slice as for jobs.
    private static Dictionary<string, object?> ServiceFile(string path)
    {
        if (!File.Exists(path)) throw new CliUsageException($"--file: {path}: not found");
        Dictionary<string, object?> yaml;
        try
        {
            yaml = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(path)) ?? [];
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new CliUsageException($"--file: {path}: not a YAML map of service fields ({e.Message})");
        }
        var body = new Dictionary<string, object?>();
        foreach (var (key, value) in yaml)
        {
            if (!ServiceFileKeys.Contains(key, StringComparer.Ordinal))
                throw new CliUsageException($"--file: {path}: unknown key '{key}' (a service file has: {string.Join(", ", ServiceFileKeys)})");
            body[key] = value is not string text ? value : key switch
            {
                "gpusPerReplica" or "minReplicas" or "maxReplicas" or "standbyReplicas" when long.TryParse(text, CultureInfo.InvariantCulture, out var whole) => whole,
                "requestsPerSecondPerReplica" or "targetUtilization" or "cpusPerGpu" or "memoryGbPerGpu" or "latencyBudgetMs"
                    when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) => amount,
                "slice" => SliceField(text, $"--file: {path}: slice"),
                "models" => new[] { text },
                _ => text,
            };
            if (key == "slice" && value is Dictionary<object, object> map) body[key] = SliceMap(map, path);
        }
        return body;
    }

    private static string Rate(JsonElement s) =>
        s.TryGetProperty("requestsPerSecond", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble().ToString("0.##", CultureInfo.InvariantCulture) : "";

    private static void ShowService(JsonElement s)
    {
        Console.WriteLine($"service {Text(s, "name")} · tenant {Text(s, "tenant")} · {Text(s, "gpusPerReplica")} GPUs a replica · {Text(s, "minReplicas")}-{Text(s, "maxReplicas")} replicas");
        Console.WriteLine($"  rate: {Rate(s)} requests/s ({Text(s, "requestsPerSecondPerReplica")} per replica at target {Text(s, "targetUtilization")})");
        Console.WriteLine($"  replicas: {Text(s, "desiredReplicas")} wanted{(Text(s, "pinnedReplicas") is { Length: > 0 } p ? $" (pinned to {p})" : "")}, "
            + $"{Text(s, "runningReplicas")} running, {Text(s, "pendingReplicas")} pending"
            + (Text(s, "standbyReplicas") is { Length: > 0 } standby && standby != "0" ? $" ({standby} of them to stand by beyond those wanted)" : ""));
        if (s.TryGetProperty("scrape", out var scrape) && scrape.ValueKind == JsonValueKind.Object)
            Console.WriteLine($"  scrape: {Text(s, "prometheusQueryUrl")} at {Text(scrape, "at")}{(Text(scrape, "error") is { Length: > 0 } e ? $" failed: {e}" : "")}");
        foreach (var r in s.GetProperty("running").EnumerateArray()) Console.WriteLine($"  running  job {Text(r, "id")} at {Text(r, "site")}: {Text(r, "hosts")}");
        foreach (var r in s.GetProperty("pending").EnumerateArray()) Console.WriteLine($"  pending  job {Text(r, "id")} since {Text(r, "submittedAt")}");
        foreach (var d in s.GetProperty("decisions").EnumerateArray())
            Console.WriteLine($"  {Text(d, "at")}  {Text(d, "requestsPerSecond")} requests/s → {Text(d, "desiredReplicas")} replicas: +{Text(d, "submitted")} -{Text(d, "ended")}"
                + (Text(d, "refused") is { Length: > 0 } why ? $" (refused: {why})" : ""));
    }
}
