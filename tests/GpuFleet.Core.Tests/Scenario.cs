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
    /// <summary>Site power caps and PUE; sites not listed get a cap that never binds.</summary>
    public List<SiteData> Sites { get; set; } = [];
    public List<LinkData> Links { get; set; } = [];
    /// <summary>Tenant tree, parents first (empty: every tenant its own owner).</summary>
    public List<TenantData> Tenants { get; set; } = [];
    /// <summary>Priority classes (empty: the built-in ones).</summary>
    public List<ClassData> Classes { get; set; } = [];
    public long HalfLifeSeconds { get; set; } = 7 * 86_400;
    public int LargeGangGpus { get; set; } = 256;
    public long LargeGangReserveAfterSeconds { get; set; } = 3_600;
    public List<StepData> Steps { get; set; } = [];
    /// <summary>GPU models with their sharing rules (empty: one model per pool name, 80 GB, whole GPUs only).</summary>
    public List<ModelData> Models { get; set; } = [];
    /// <summary>How slices are packed: BestFit, WorstFit or FragmentationAware.</summary>
    public string Packing { get; set; } = "FragmentationAware";
    /// <summary>MIG layouts checked against a model's profiles: allowed or not, and why not.</summary>
    public List<LayoutData> Layouts { get; set; } = [];
    /// <summary>Sites that take only jobs that name them.</summary>
    public List<string> DedicatedSites { get; set; } = [];
    /// <summary>Inference services whose replicas are jobs; a step's <see cref="StepData.Load"/> scales them.</summary>
    public List<ServiceData> Services { get; set; } = [];

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
    public int CpusPerNode { get; set; }
    public int MemoryGbPerNode { get; set; }
}

public sealed class ModelData
{
    public string Name { get; set; } = "G";
    public double MemoryGb { get; set; } = 80;
    public int ComputeSlices { get; set; } = 7;
    public int MemorySlices { get; set; } = 8;
    public bool TimeSharing { get; set; }
    public long ReconfigureSeconds { get; set; } = 60;
    public List<ProfileData> MigProfiles { get; set; } = [];
}

public sealed class ProfileData
{
    public string Name { get; set; } = "";
    public int ComputeSlices { get; set; }
    public int MemorySlices { get; set; }
    public double MemoryGb { get; set; }
    public List<int> Placements { get; set; } = [];
}

public sealed class LayoutData
{
    public string Model { get; set; } = "G";
    /// <summary>Profiles placed in order, each at its first free placement.</summary>
    public List<string> Profiles { get; set; } = [];
    public bool Allowed { get; set; }
    /// <summary>For a layout not allowed: a fragment of the reason.</summary>
    public string? Problem { get; set; }
}

public sealed class SiteData
{
    public string Name { get; set; } = "s1";
    public string Owner { get; set; } = "owner";
    public double PowerCapMw { get; set; } = 100;
    public double Pue { get; set; } = 1.2;
    public string Region { get; set; } = "r";
}

public sealed class LinkData
{
    public string From { get; set; } = "";
    public string To { get; set; } = "";
    public double Gbps { get; set; }
    public double LatencyMs { get; set; }
}

public sealed class TenantData
{
    public string Name { get; set; } = "";
    public string? Parent { get; set; }
    public Dictionary<string, int> Guarantee { get; set; } = [];
    public double? Weight { get; set; }
    public int? BorrowLimitGpus { get; set; }
    public int? LendLimitGpus { get; set; }
    public bool LendsToOtherOwners { get; set; } = true;
    public bool ReclaimsGuests { get; set; }
    public List<GrantData> Grants { get; set; } = [];
}

public sealed class GrantData
{
    public string Name { get; set; } = "g";
    public double GpuHours { get; set; }
    public long Start { get; set; }
    public long End { get; set; } = long.MaxValue;
    public string WhenExhausted { get; set; } = "Hold";
}

public sealed class ClassData
{
    public string Name { get; set; } = "";
    public int Priority { get; set; }
    public bool Preemptible { get; set; }
    public long MinRuntime { get; set; }
    public long Grace { get; set; }
    public bool BestEffort { get; set; }
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
    public string? Class { get; set; }
    public string? Site { get; set; }
    public string? DataSite { get; set; }
    public double DataGb { get; set; }
    public long Checkpoint { get; set; }
    public double CpusPerGpu { get; set; }
    public double MemoryGbPerGpu { get; set; }
    /// <summary>A MIG profile per member (a slice job).</summary>
    public string? Mig { get; set; }
    /// <summary>A time-shared fraction per member, with <see cref="GpuMemoryGb"/> (a slice job).</summary>
    public double Fraction { get; set; }
    public double GpuMemoryGb { get; set; }
}

public sealed class StepData
{
    public long At { get; set; }
    public List<long> End { get; set; } = [];
    /// <summary>Running jobs whose runs were lost (a node failed): they queue again.</summary>
    public List<long> Requeue { get; set; } = [];
    /// <summary>Node index → GPUs out of service from this step on (all of a down or drained node, those the cluster's own users hold; 0: back in service).</summary>
    public Dictionary<int, int> OutOfService { get; set; } = [];
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
    /// <summary>Jobs that must be evicted in this step's cycle (exactly these; absent means none).</summary>
    public List<long>? Preempted { get; set; }
    /// <summary>Jobs this step's cycle must place beyond their tenant's guarantee (reclaimable).</summary>
    public List<long>? Borrowed { get; set; }
    /// <summary>Jobs that must be running after this step's cycle.</summary>
    public List<long> Running { get; set; } = [];
    /// <summary>Job id → site it must run at.</summary>
    public Dictionary<long, string> OnSites { get; set; } = [];
    /// <summary>Job id → estimated start it must be given.</summary>
    public Dictionary<long, long> Estimates { get; set; } = [];
    /// <summary>Job id → its slices, each <c>node/gpu</c> with <c>:profile@start</c> for MIG (<c>0/1:1g.10gb@2</c>).</summary>
    public Dictionary<long, List<string>> Slices { get; set; } = [];
    /// <summary>Job id → seconds its start waits (a MIG layout change, eviction grace).</summary>
    public Dictionary<long, long> Delays { get; set; } = [];
    /// <summary>Expected GPUs running slices after this step's cycle.</summary>
    public int? SharedGpus { get; set; }
    /// <summary>Expected reservation: job id and shadow time.</summary>
    public ReservationData? Reservation { get; set; }
    /// <summary>Service name → requests per second from this step on (before the cycle: replicas are submitted or ended).</summary>
    public Dictionary<string, double> Load { get; set; } = [];
    /// <summary>Service name → its replicas after this step's cycle.</summary>
    public Dictionary<string, ReplicaData> Replicas { get; set; } = [];
}

public sealed class ServiceData
{
    public string Name { get; set; } = "svc";
    public string Tenant { get; set; } = "t";
    public int GpusPerReplica { get; set; } = 1;
    public int MinReplicas { get; set; }
    public int MaxReplicas { get; set; } = 10;
    public double RequestsPerSecondPerReplica { get; set; } = 100;
    public double TargetUtilization { get; set; } = 1;
    public string? Class { get; set; }
    public List<string> Models { get; set; } = [];
    public string? Region { get; set; }
    public double? LatencyBudgetMs { get; set; }
    public int StandbyReplicas { get; set; }
}

public sealed class ReplicaData
{
    public int? Desired { get; set; }
    /// <summary>Replicas holding GPUs.</summary>
    public int? Placed { get; set; }
    /// <summary>Replicas waiting (new, or evicted and queued again).</summary>
    public int? Pending { get; set; }
    /// <summary>Site → placed replicas there (exactly these sites).</summary>
    public Dictionary<string, int>? Sites { get; set; }
}

public sealed class ReservationData
{
    public long Job { get; set; }
    public long Shadow { get; set; }
}
