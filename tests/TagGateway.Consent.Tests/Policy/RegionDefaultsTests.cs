using TagGateway.Consent.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Policy;

public class RegionDefaultsTests
{
    private static (ConsentTypes Granted, RegionProfile Profile) Resolve(string region, Action<ConsentOptions>? configure = null) =>
        TestPolicies.Create(configure).Snapshot.Regions.Resolve(region, gdprApplies: false);

    [Theory]
    [InlineData("DE")]
    [InlineData("FR")]
    [InlineData("GB")]
    [InlineData("CH")]
    [InlineData("NO")]
    [InlineData("IS")]
    [InlineData("LI")]
    [InlineData("de")]
    [InlineData("FR-75")]
    [InlineData("GF")] // French Guiana, EU outermost region
    public void Eea_uk_and_switzerland_deny_everything_by_default(string region)
    {
        Assert.Equal((ConsentTypes.None, RegionProfile.Strict), Resolve(region));
    }

    [Theory]
    [InlineData("US")]
    [InlineData("US-CA")]
    [InlineData("us-ny")]
    [InlineData("BR")]
    [InlineData("JP")]
    [InlineData(" US ")]
    public void Elsewhere_grants_by_default(string region)
    {
        Assert.Equal((ConsentTypes.All, RegionProfile.Other), Resolve(region));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("XX")] // Cloudflare: unknown
    [InlineData("T1")] // Cloudflare: Tor
    [InlineData("ZZ")]
    [InlineData("EU")]
    [InlineData("D")]
    [InlineData("DEU")]
    [InlineData("US-")]
    [InlineData("US-CALIF")]
    [InlineData("U1")]
    [InlineData("Ü")]
    public void Unknown_regions_get_the_strict_defaults(string region)
    {
        Assert.Equal((ConsentTypes.None, RegionProfile.Unknown), Resolve(region));
    }

    [Fact]
    public void Analytics_storage_in_strict_regions_is_configurable()
    {
        (var granted, var profile) = Resolve("DE", o => o.StrictDefaults.AnalyticsStorage = ConsentDefault.Granted);

        Assert.Equal(ConsentTypes.AnalyticsStorage, granted);
        Assert.Equal(RegionProfile.Strict, profile);
        Assert.Equal(ConsentTypes.AnalyticsStorage, Resolve("", o => o.StrictDefaults.AnalyticsStorage = ConsentDefault.Granted).Granted);
    }

    [Fact]
    public void Other_regions_are_configurable()
    {
        Assert.Equal(ConsentTypes.AdStorage | ConsentTypes.AnalyticsStorage, Resolve("US", o =>
        {
            o.OtherDefaults.AdUserData = ConsentDefault.Denied;
            o.OtherDefaults.AdPersonalization = ConsentDefault.Denied;
        }).Granted);
    }

    [Fact]
    public void Subdivision_entry_inherits_from_its_country_entry_then_the_profile()
    {
        void Configure(ConsentOptions o)
        {
            o.RegionDefaults["US"] = new() { AdPersonalization = ConsentDefault.Denied };
            o.RegionDefaults["us-ca"] = new() { AdUserData = ConsentDefault.Denied };
            o.RegionDefaults["DE"] = new() { AnalyticsStorage = ConsentDefault.Granted };
        }

        Assert.Equal((ConsentTypes.AdStorage | ConsentTypes.AnalyticsStorage, RegionProfile.Configured), Resolve("US-CA", Configure));
        Assert.Equal((ConsentTypes.All & ~ConsentTypes.AdPersonalization, RegionProfile.Configured), Resolve("US", Configure));
        Assert.Equal((ConsentTypes.All & ~ConsentTypes.AdPersonalization, RegionProfile.Configured), Resolve("US-NY", Configure));
        Assert.Equal((ConsentTypes.AnalyticsStorage, RegionProfile.Configured), Resolve("DE", Configure));
        Assert.Equal((ConsentTypes.None, RegionProfile.Strict), Resolve("FR", Configure));
    }

    [Fact]
    public void A_configured_region_outside_the_iso_list_starts_from_the_strict_defaults()
    {
        // QZ is not an assigned country, so its entry inherits the strict defaults and grants only what it names.
        Assert.Equal((ConsentTypes.AdStorage, RegionProfile.Configured), Resolve("QZ", o => o.RegionDefaults["QZ"] = new() { AdStorage = ConsentDefault.Granted }));
    }
}
