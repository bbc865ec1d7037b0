namespace GpuFleet.Server.Tests;

/// <summary>The database a test server stores jobs in.</summary>
public enum Backend
{
    Sqlite,
    Postgres,
}
