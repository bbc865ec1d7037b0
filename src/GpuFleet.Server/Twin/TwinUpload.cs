namespace GpuFleet.Server.Twin;

/// <summary>A trace file as uploaded: the name the user's browser or script gave it, its length, and its bytes.</summary>
public sealed record TwinUpload(string FileName, long Length, Func<Stream> Open);
