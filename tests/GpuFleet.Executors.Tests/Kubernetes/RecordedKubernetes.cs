using k8s;
using k8s.Models;

namespace GpuFleet.Executors.Tests.Kubernetes;

/// <summary>The recorded Kubernetes API answers of <c>Recorded/kubernetes/</c> (where each comes from: its README).</summary>
internal static class RecordedKubernetes
{
    public static string Path(string file) => System.IO.Path.Combine(TestFiles.Root, "tests", "GpuFleet.Executors.Tests", "Recorded", "kubernetes", file);

    public static string Text(string file) => File.ReadAllText(Path(file));

    /// <summary>A recorded object, read as the client library reads an API server's answer (YAML for <c>kubectl -o yaml</c> output).</summary>
    public static T Read<T>(string file) =>
        file.EndsWith(".yaml", StringComparison.Ordinal) ? KubernetesYaml.Deserialize<T>(Text(file)) : KubernetesJson.Deserialize<T>(Text(file));

    /// <summary>
    /// A recorded pod or Job given GpuFleet's label for job <paramref name="id"/>, as GpuFleet's Job template gives
    /// it to its pods: the executor finds its own by that label alone, the rest of the answer stays as recorded.
    /// </summary>
    public static T Labelled<T>(T obj, long id) where T : IMetadata<V1ObjectMeta>
    {
        obj.Metadata.Labels ??= new Dictionary<string, string>();
        obj.Metadata.Labels["gpufleet.io/job-id"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return obj;
    }
}
