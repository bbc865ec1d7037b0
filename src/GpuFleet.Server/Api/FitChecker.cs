using GpuFleet.Core.Decisions;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Workloads;
using GpuFleet.Server.Hosting;
using GpuFleet.Server.Jobs;

namespace GpuFleet.Server.Api;

/// <summary>
/// Whether a submission can ever run, by the scheduling core's own rules (<see cref="FleetScheduler.Check"/>):
/// more GPUs of its models than one site has where it may not span sites, more than one node has with
/// topology <c>node</c>, more than its tenant's guarantee under a policy that never lends, more than a
/// site's power cap allows... Such a job is refused at submission, with the core's reason under its
/// field, rather than accepted and failed by the leader later.
/// <para>
/// The check runs on a scheduler of its own, built from the same fleet and options as the live one
/// (<see cref="ServerSettings.Scheduling"/>) and never given a job, so that any replica answers
/// alike whether it leads or not; one lock guards it (a check is a few dictionary lookups, and the
/// first of a new job shape a walk over the fleet's pools).
/// </para>
/// <para>
/// Memory: the core keeps a class of jobs for each distinct shape it meets (GPUs, models, topology,
/// site, data site), and a client can invent shapes without end (a check never adds a tenant, so
/// tenant names cannot grow it). Past <see cref="MaxShapes"/> shapes the checking scheduler is
/// replaced by a fresh one: its answers do not depend on what it met before, and a rebuild costs one
/// scheduler over an empty fleet, at most once per that many new shapes.
/// </para>
/// </summary>
public sealed class FitChecker(ServerSettings settings)
{
    /// <summary>Most distinct job shapes the checking scheduler keeps before it is rebuilt.</summary>
    public const int MaxShapes = 4_096;

    private readonly Lock _gate = new();
    private FleetScheduler _core = new(settings.Fleet, settings.Scheduling);

    /// <summary>How often the checking scheduler was rebuilt (for tests).</summary>
    internal int Rebuilds { get; private set; }

    /// <summary>
    /// Null when the core would queue <paramref name="job"/>; else its reason, under the field it names
    /// (<c>"gpus: 9 GPUs can never fit …"</c> → <c>gpus</c>), or under <c>body</c> when it names none.
    /// </summary>
    public (string Field, string Problem)? Problem(NewJob job)
    {
        var spec = job.ToSpec(0, 0);
        SubmitResult result;
        lock (_gate)
        {
            result = _core.Check(spec);
            // The core keeps a class per shape it met: past the bound, the next check starts from a fresh one.
            if (_core.JobClassCount > MaxShapes)
            {
                _core = new FleetScheduler(settings.Fleet, settings.Scheduling);
                Rebuilds++;
            }
        }
        if (result.Accepted) return null;
        var error = result.Error ?? "can never run on this fleet";
        var colon = error.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && error[..colon].All(char.IsAsciiLetter) ? (error[..colon], error[(colon + 2)..]) : ("body", error);
    }
}
