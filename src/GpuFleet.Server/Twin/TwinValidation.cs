namespace GpuFleet.Server.Twin;

/// <summary>A twin run's inputs checked: the request when they are good, else each bad field with what is wrong with it.</summary>
public sealed record TwinValidation(TwinRequest? Request, IReadOnlyDictionary<string, string[]> Errors);
