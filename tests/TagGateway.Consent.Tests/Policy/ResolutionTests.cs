using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Policy;

public class ResolutionTests
{
    private static ConsentResolution Resolve(string query, ConsentType type, string region = "US", bool gpc = false) =>
        TestPolicies.Decide(query, region, gpc).Consent.Get(type);

    [Fact]
    public void Gcd_update_beats_gcd_default_and_gcs()
    {
        // r = denied by default, granted by update; gcs says denied.
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), Resolve("gcs=G100&gcd=13r3r3r3r5", ConsentType.AdStorage, "DE"));
    }

    [Fact]
    public void Gcd_default_beats_gcs()
    {
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.GcdDefault), Resolve("gcs=G111&gcd=13p3p3p3p5", ConsentType.AdStorage));
    }

    [Fact]
    public void Gcs_beats_the_region_default_when_gcd_is_not_set()
    {
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.Gcs), Resolve("gcs=G111&gcd=13l3l3l3l1", ConsentType.AnalyticsStorage, "DE"));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.Gcs), Resolve("gcs=G100", ConsentType.AdStorage, "US"));

        // gcs says nothing about ad_user_data: the region default decides.
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.RegionDefault), Resolve("gcs=G111", ConsentType.AdUserData, "DE"));
    }

    [Fact]
    public void Region_default_applies_without_signals()
    {
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.RegionDefault), Resolve("v=2", ConsentType.AdStorage, "DE"));
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.RegionDefault), Resolve("v=2", ConsentType.AdStorage, "US"));
    }

    [Theory]
    [InlineData('f')] // pairs like 'v' apart from an unexplained bit
    [InlineData('j')] // "update granted" by the bare mask
    [InlineData('R')] // live traffic
    public void An_undocumented_letter_is_not_set_for_its_type_only_so_gcs_then_the_region_decides(char letter)
    {
        // gcs decides ad_storage; the region decides ad_user_data: granted in the US, denied in DE. Never granted by the letter itself.
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.Gcs), Resolve($"gcs=G100&gcd=13{letter}3v3v3v5", ConsentType.AdStorage, "US"));
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.RegionDefault), Resolve($"gcs=G1--&gcd=13v3v3{letter}3v5", ConsentType.AdUserData, "US-CA"));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.RegionDefault), Resolve($"gcs=G1--&gcd=13v3v3{letter}3v5", ConsentType.AdUserData, "DE"));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.RegionDefault), Resolve($"gcd=13{letter}3v3v3v5", ConsentType.AdStorage, ""));

        // The rest of the string is still read.
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), Resolve($"gcs=G100&gcd=13{letter}3v3v3v5", ConsentType.AnalyticsStorage, "DE"));
    }

    [Fact]
    public void Live_shape_without_consent_mode_is_decided_by_the_region()
    {
        // gcd=13l3l3R3l5l1 with gcs=G1-- (no consent mode on the page): US-CA grants by default, DE denies.
        var california = TestPolicies.Decide("gcd=13l3l3R3l5l1&gcs=G1--", "US-CA");
        var germany = TestPolicies.Decide("gcd=13l3l3R3l5l1&gcs=G1--", "DE");

        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.RegionDefault), california.Consent.Get(ConsentType.AdUserData));
        Assert.True(california.For(ConsentDestination.GoogleAds).MayAttachUserData);
        Assert.True(california.For(ConsentDestination.Meta).MayAttachUserData);
        Assert.Equal(ConsentDenial.RegionDefault, germany.DenialOf(ConsentType.AdUserData));
        Assert.False(germany.For(ConsentDestination.GoogleAds).MayAttachUserData);
        Assert.False(germany.For(ConsentDestination.Meta).MayAttachUserData);
    }

    public static TheoryData<string, string, ConsentDenial, ConsentDenial> Denials => new()
    {
        // query, region, analytics_storage, ad_storage
        { "gcs=G100&gcd=13q3q3q3q5", "US", ConsentDenial.Update, ConsentDenial.Update },
        { "gcd=13m3u3m3m5", "US", ConsentDenial.Update, ConsentDenial.Update },
        { "gcs=G100&gcd=13p3p3p3p5", "DE", ConsentDenial.Default, ConsentDenial.Default },
        { "gcs=G100&gcd=13r3p3p3p5", "DE", ConsentDenial.Default, ConsentDenial.None },
        { "gcs=G100", "US", ConsentDenial.Default, ConsentDenial.Default },
        { "gcd=13l3l3l3l1", "DE", ConsentDenial.RegionDefault, ConsentDenial.RegionDefault },
        { "gcd=13l3l3l3l1", "", ConsentDenial.RegionDefault, ConsentDenial.RegionDefault },
        { "gcd=13l3l3l3l1", "US", ConsentDenial.None, ConsentDenial.None },
        { "gcs=G1x1", "US", ConsentDenial.Unreadable, ConsentDenial.Unreadable },
    };

    [Theory]
    [MemberData(nameof(Denials))]
    public void The_decision_says_where_each_storage_denial_came_from(string query, string region, ConsentDenial analytics, ConsentDenial ad)
    {
        var decision = TestPolicies.Decide(query, region);

        Assert.Equal(analytics, decision.DenialOf(ConsentType.AnalyticsStorage));
        Assert.Equal(ad, decision.DenialOf(ConsentType.AdStorage));
        Assert.Equal(analytics == ConsentDenial.Update, decision.For(ConsentDestination.GoogleAnalytics).IdentifiersWithdrawn);
        Assert.Equal(ad == ConsentDenial.Update, decision.For(ConsentDestination.Meta).IdentifiersWithdrawn);
        Assert.Equal(ad == ConsentDenial.Update, decision.For(ConsentDestination.GoogleAds).IdentifiersWithdrawn);
    }

    [Fact]
    public void Gpc_is_its_own_denial_and_withdraws_no_identifier()
    {
        var decision = TestPolicies.Decide("gcd=13v3v3v3v5", "US", gpc: true);

        Assert.Equal(ConsentDenial.GlobalPrivacyControl, decision.DenialOf(ConsentType.AdUserData));
        Assert.Equal(ConsentDenial.None, decision.DenialOf(ConsentType.AdStorage));
        Assert.Equal(ConsentTypes.None, decision.Withdrawn);

        // Meta is not sent at all under GPC, yet the visitor never refused ad_storage: its cookies are left alone.
        Assert.False(decision.For(ConsentDestination.Meta).MaySend);
        Assert.False(decision.For(ConsentDestination.Meta).IdentifiersWithdrawn);
    }

    [Fact]
    public void Gpc_denies_ad_user_data_and_ad_personalization_only()
    {
        var decision = TestPolicies.Decide("gcd=13v3v3v3v5", "US", gpc: true);

        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), decision.Consent.Get(ConsentType.AdStorage));
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), decision.Consent.Get(ConsentType.AnalyticsStorage));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.GlobalPrivacyControl), decision.Consent.Get(ConsentType.AdUserData));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.GlobalPrivacyControl), decision.Consent.Get(ConsentType.AdPersonalization));
    }

    [Fact]
    public void Gpc_blocks_meta_tiktok_linkedin_and_restricts_google()
    {
        var decision = TestPolicies.Decide("gcd=13v3v3v3v5", "US", gpc: true);

        Assert.False(decision.For(ConsentDestination.Meta).MaySend);
        Assert.False(decision.For(ConsentDestination.TikTok).MaySend);
        Assert.False(decision.For(ConsentDestination.LinkedIn).MaySend);
        Assert.True(decision.For(ConsentDestination.GoogleAds).MaySend);
        Assert.True(decision.For(ConsentDestination.GoogleAds).MayUseIdentifiers);
        Assert.False(decision.For(ConsentDestination.GoogleAds).MayAttachUserData);
        Assert.Equal(RestrictedForm.GoogleNonPersonalizedAds, decision.For(ConsentDestination.GoogleAds).RestrictedForm);
    }

    [Fact]
    public void Gpc_applies_even_without_any_consent_mode_signal()
    {
        var decision = TestPolicies.Decide("v=2", "US", gpc: true);

        Assert.False(decision.Consent.Get(ConsentType.AdUserData).IsGranted);
        Assert.False(decision.For(ConsentDestination.Meta).MaySend);
    }

    [Fact]
    public void Npa_one_denies_ad_personalization()
    {
        var decision = TestPolicies.Decide("gcd=13v3v3v3v5&npa=1", "US");

        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.NonPersonalizedAds), decision.Consent.Get(ConsentType.AdPersonalization));
        Assert.True(decision.Consent.Get(ConsentType.AdUserData).IsGranted);
        Assert.Equal(RestrictedForm.MetaLimitedDataUse, decision.For(ConsentDestination.Meta).RestrictedForm);
    }

    [Fact]
    public void Npa_zero_never_grants()
    {
        Assert.False(Resolve("gcd=13p3p3p3p5&npa=0", ConsentType.AdPersonalization).IsGranted);
    }

    [Fact]
    public void Gdpr_one_makes_a_lenient_region_strict()
    {
        var decision = TestPolicies.Decide("gdpr=1", "US");

        Assert.Equal(RegionProfile.GdprApplies, decision.RegionProfile);
        Assert.Equal(ConsentTypes.None, decision.Consent.Granted);
        Assert.Equal(RegionProfile.Other, TestPolicies.Decide("gdpr=0", "US").RegionProfile);
    }
}
