using TagGateway.Capi.Configuration;

namespace TagGateway.Capi.Redis.Tests;

/// <summary>The Redis store's settings are checked at start, all problems at once.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public void Claim_idle_shorter_than_the_heartbeat_or_the_merge_window_is_refused()
    {
        var options = new CapiOptions { MergeWindow = TimeSpan.FromSeconds(40) };
        options.Store.Kind = CapiStoreKind.Redis;
        options.Store.Redis.ClaimIdle = TimeSpan.FromSeconds(5);
        options.Store.Redis.ConsumerTtl = TimeSpan.FromSeconds(10);

        var result = new CapiOptionsCrossFieldValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, static f => f.Contains("ClaimIdle must not be shorter than Capi:Store:Redis:ConsumerTtl", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, static f => f.Contains("ClaimIdle must be longer than Capi:MergeWindow", StringComparison.Ordinal));
    }

    [Fact]
    public void The_journal_ignores_the_Redis_settings_and_the_defaults_are_valid()
    {
        var options = new CapiOptions();
        options.Store.Redis.ClaimIdle = TimeSpan.FromSeconds(1);
        Assert.True(new CapiOptionsCrossFieldValidator().Validate(null, options).Succeeded);

        options.Store.Kind = CapiStoreKind.Redis;
        options.Store.Redis = new RedisStoreOptions();
        Assert.True(new CapiOptionsCrossFieldValidator().Validate(null, options).Succeeded);
    }
}
