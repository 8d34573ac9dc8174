using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Configuration;

public class ConsentOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTagGatewayConsent(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Defaults_are_valid_and_logging_is_off()
    {
        using var provider = Build([]);
        var options = provider.GetRequiredService<IOptions<ConsentOptions>>().Value;

        Assert.Equal(ConsentLogMode.None, options.Log.Mode);
        Assert.Equal(ConsentDefault.Denied, options.StrictDefaults.AnalyticsStorage);
        Assert.Equal(ConsentDefault.Granted, options.OtherDefaults.AdStorage);
    }

    [Fact]
    public void Section_binds_regions_destinations_and_log()
    {
        using var provider = Build(new()
        {
            ["Consent:StrictDefaults:AnalyticsStorage"] = "Granted",
            ["Consent:RegionDefaults:US-CA:AdUserData"] = "Denied",
            ["Consent:Destinations:Snap:SendRequires"] = "AdStorage, AdUserData",
            ["Consent:Destinations:Snap:BlockOnGpc"] = "false",
            ["Consent:Destinations:Meta:Enabled"] = "false",
            ["Consent:Log:Mode"] = "Stdout",
            ["Consent:Log:SampleRate"] = "0.25",
            ["Consent:Log:ClientIdSalt"] = "0123456789abcdef-salt",
        });

        var options = provider.GetRequiredService<IOptions<ConsentOptions>>().Value;
        Assert.Equal(ConsentDefault.Granted, options.StrictDefaults.AnalyticsStorage);
        Assert.Equal(ConsentDefault.Denied, options.StrictDefaults.AdStorage);
        Assert.Equal(ConsentDefault.Denied, options.RegionDefaults["US-CA"].AdUserData);
        Assert.Equal(ConsentTypes.AdStorage | ConsentTypes.AdUserData, options.Destinations["Snap"].SendRequires);
        Assert.Equal(ConsentLogMode.Stdout, options.Log.Mode);
        Assert.Equal(0.25, options.Log.SampleRate);

        var policy = provider.GetRequiredService<IConsentPolicy>();
        var decision = policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3v5", true), "US-CA");
        Assert.True(decision.For("Snap").MaySend is false); // GPC denies ad_user_data, which Snap needs
        Assert.False(decision.For(ConsentDestination.Meta).MaySend);
        Assert.True(policy.TryGetDestination("snap", out var snap));
        Assert.Equal("Snap", decision.For(snap).Name);
        Assert.False(policy.TryGetDestination("Pinterest", out var missing));
        Assert.False(decision.For(missing).MaySend);
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        using var provider = Build(new()
        {
            ["Consent:Log:Mode"] = "File",
            ["Consent:Log:SampleRate"] = "1.5",
            ["Consent:Log:MaxFiles"] = "0",
            ["Consent:RegionDefaults:Germany:AdStorage"] = "Granted",
            ["Consent:Destinations:1bad:SendRequires"] = "AdStorage",
            ["Consent:Destinations:Pinterest:WhenPersonalizationDenied"] = "Restrict",
        });

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ConsentOptions>>().Value);
        var all = string.Join("\n", exception.Failures);

        Assert.Contains("SampleRate", all);
        Assert.Contains("MaxFiles", all);
        Assert.Contains("Consent:Log:Path", all);
        Assert.Contains("ClientIdSalt", all);
        Assert.Contains("Consent:RegionDefaults:Germany", all);
        Assert.Contains("Consent:Destinations:1bad", all);
        Assert.Contains("Consent:Destinations:Pinterest", all);
    }

    [Fact]
    public async Task A_bad_configuration_stops_the_host_at_start()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Consent:Log:Mode"] = "File" });
        builder.Services.AddTagGatewayConsent(builder.Configuration);
        using var host = builder.Build();

        await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }

    [Fact]
    public void Registration_is_idempotent()
    {
        IConfiguration configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTagGatewayConsent(configuration);
        var count = services.Count;
        services.AddTagGatewayConsent(configuration);

        using var provider = services.BuildServiceProvider();
        Assert.Single(provider.GetServices<IConsentPolicy>());
        Assert.Single(provider.GetServices<IHostedService>());
        Assert.Equal(2, provider.GetServices<IValidateOptions<ConsentOptions>>().Count());
        Assert.Equal(count, services.Count);
    }

    [Fact]
    public void Reload_swaps_the_policy_whole()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Consent:Destinations:Meta:Enabled"] = "true" })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTagGatewayConsent(configuration);
        using var provider = services.BuildServiceProvider();
        var policy = provider.GetRequiredService<IConsentPolicy>();
        var granted = ConsentSignals.FromQuery("gcd=13v3v3v3v5", false);
        var before = policy.Decide(granted, "US");

        configuration["Consent:Destinations:Meta:Enabled"] = "false";
        configuration["Consent:Destinations:Snap:SendRequires"] = "AdStorage";
        configuration.Reload();
        var after = policy.Decide(granted, "US");

        Assert.True(before.For(ConsentDestination.Meta).MaySend);
        Assert.False(after.For(ConsentDestination.Meta).MaySend);
        Assert.True(after.For("Snap").MaySend);

        // A decision already made keeps the table it was made with.
        Assert.Equal(5, before.DestinationCount);
        Assert.Equal(6, after.DestinationCount);
    }
}
