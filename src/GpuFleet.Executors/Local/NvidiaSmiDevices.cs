using System.Globalization;
using System.Text.RegularExpressions;

namespace GpuFleet.Executors.Local;

/// <summary>
/// A reader of <c>nvidia-smi -L</c>: the MIG instances of each GPU, which a job of MIG slices is given by UUID.
/// </summary>
/// <remarks>
/// Example:
/// <code>
/// GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-5d5ba0d6-…)
///   MIG 1g.10gb     Device  0: (UUID: MIG-4f1e…)
///   MIG 1g.10gb     Device  1: (UUID: MIG-9a2c…)
/// GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-0c7e…)
/// </code>
/// lists two 1g.10gb instances on GPU 0 and none on GPU 1 (MIG off there). Lines it does not know are skipped.
/// </remarks>
public static partial class NvidiaSmiDevices
{
    /// <summary>The arguments given to <c>nvidia-smi</c>.</summary>
    public static IReadOnlyList<string> Arguments { get; } = ["-L"];

    /// <summary>The MIG instances <paramref name="output"/> lists, in its order.</summary>
    public static IReadOnlyList<MigDevice> Parse(string output)
    {
        var devices = new List<MigDevice>();
        int? gpu = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (GpuLine().Match(line) is { Success: true } g)
            {
                gpu = int.Parse(g.Groups[1].Value, CultureInfo.InvariantCulture);
                continue;
            }
            if (gpu is { } on && MigLine().Match(line) is { Success: true } m)
                devices.Add(new MigDevice(on, m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value));
        }
        return devices;
    }

    [GeneratedRegex(@"^GPU (\d+):")]
    private static partial Regex GpuLine();

    [GeneratedRegex(@"^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s*\(UUID:\s*(MIG-[^)\s]+)\)")]
    private static partial Regex MigLine();
}
