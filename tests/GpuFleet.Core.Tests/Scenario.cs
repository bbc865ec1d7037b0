using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace GpuFleet.Core.Tests;

/// <summary>A scheduling rule written as data: a fleet, a policy and steps of events with expected decisions.</summary>
public sealed class Scenario
{
    public string Name { get; set; } = "";
    public string Rule { get; set; } = "";
    public string Policy { get; set; } = "backfill";
    public List<PoolData> Pools { get; set; } = [];
    public List<StepData> Steps { get; set; } = [];

    public static Scenario Load(string path)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        return deserializer.Deserialize<Scenario>(File.ReadAllText(path));
    }

    public override string ToString() => Name;
}

public sealed class PoolData
{
    public string Site { get; set; } = "s1";
    public string Model { get; set; } = "G";
    public int GpusPerNode { get; set; } = 8;
    public int NodesPerDomain { get; set; } = 1;
    public int Domains { get; set; } = 1;
}

public sealed class JobData
{
    public long Id { get; set; }
    public string Tenant { get; set; } = "t";
    public int Gpus { get; set; } = 1;
    public List<string> Models { get; set; } = [];
    public string Topology { get; set; } = "site";
    public long Limit { get; set; } = 3600;
    public int Priority { get; set; }
}

public sealed class StepData
{
    public long At { get; set; }
    public List<long> End { get; set; } = [];
    public List<JobData> Submit { get; set; } = [];
    /// <summary>Jobs that must be placed in this step's cycle (exactly these).</summary>
    public List<long>? Placed { get; set; }
    /// <summary>Job id → expected pending reason.</summary>
    public Dictionary<long, string> Pending { get; set; } = [];
    /// <summary>Job id → expected rejection text fragment.</summary>
    public Dictionary<long, string> Rejected { get; set; } = [];
    /// <summary>Job id → number of nodes it must span.</summary>
    public Dictionary<long, int> Nodes { get; set; } = [];
    /// <summary>Job id → number of NVLink domains it must span.</summary>
    public Dictionary<long, int> Domains { get; set; } = [];
    /// <summary>Job id → exact node indexes it must be on.</summary>
    public Dictionary<long, List<int>> OnNodes { get; set; } = [];
    /// <summary>Expected reservation: job id and shadow time.</summary>
    public ReservationData? Reservation { get; set; }
}

public sealed class ReservationData
{
    public long Job { get; set; }
    public long Shadow { get; set; }
}
