namespace GpuFleet.Executors.Tests;

[Trait("Category", "Unit")]
public sealed class RunNamesTests
{
    [Theory]
    [InlineData(null, "gpufleet-42", 42L)]
    [InlineData(null, "gpufleet-prod-42", null)]      // a named installation's run is not the unnamed one's
    [InlineData("prod", "gpufleet-prod-42", 42L)]
    [InlineData("prod", "gpufleet-42", null)]         // nor the other way round
    [InlineData("prod", "gpufleet-staging-42", null)]
    [InlineData("prod", "gpufleet-prod-eu-42", null)] // installation prod-eu's, not prod's
    [InlineData("prod-eu", "gpufleet-prod-eu-42", 42L)]
    [InlineData("prod-eu", "gpufleet-prod-42", null)]
    [InlineData("prod", "gpufleet-prod-", null)]
    [InlineData("prod", "gpufleet-prod--1", null)]
    public void A_run_is_an_installations_only_under_its_own_prefix(string? installation, string name, long? id) =>
        Assert.Equal(id, new RunNames(installation).JobIdOf(name));

    [Fact]
    public void Names_round_trip_and_the_unnamed_installation_keeps_the_names_runs_always_had()
    {
        Assert.Equal("gpufleet-prod-7", new RunNames("prod").Of(7));
        Assert.Equal(7L, new RunNames("prod").JobIdOf(new RunNames("prod").Of(7)));
        Assert.Equal(ExecutorLaunch.RunName(7), RunNames.Default.Of(7));
        Assert.Equal("gpufleet-7", RunNames.Default.Of(7));
    }
}
