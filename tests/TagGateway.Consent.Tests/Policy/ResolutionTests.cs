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

    [Fact]
    public void A_letter_below_g_fails_closed_for_its_type_only()
    {
        ConsentDecision decision = TestPolicies.Decide("gcs=G111&gcd=13f3v3v3v5", "US");

        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.Unreadable), decision.Consent.Get(ConsentType.AdStorage));
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), decision.Consent.Get(ConsentType.AnalyticsStorage));
    }

    [Fact]
    public void Gpc_denies_ad_user_data_and_ad_personalization_only()
    {
        ConsentDecision decision = TestPolicies.Decide("gcd=13v3v3v3v5", "US", gpc: true);

        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), decision.Consent.Get(ConsentType.AdStorage));
        Assert.Equal(new ConsentResolution(ConsentState.Granted, ConsentSource.GcdUpdate), decision.Consent.Get(ConsentType.AnalyticsStorage));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.GlobalPrivacyControl), decision.Consent.Get(ConsentType.AdUserData));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.GlobalPrivacyControl), decision.Consent.Get(ConsentType.AdPersonalization));
    }

    [Fact]
    public void Gpc_blocks_meta_tiktok_linkedin_and_restricts_google()
    {
        ConsentDecision decision = TestPolicies.Decide("gcd=13v3v3v3v5", "US", gpc: true);

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
        ConsentDecision decision = TestPolicies.Decide("v=2", "US", gpc: true);

        Assert.False(decision.Consent.Get(ConsentType.AdUserData).IsGranted);
        Assert.False(decision.For(ConsentDestination.Meta).MaySend);
    }

    [Fact]
    public void Npa_one_denies_ad_personalization()
    {
        ConsentDecision decision = TestPolicies.Decide("gcd=13v3v3v3v5&npa=1", "US");

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
        ConsentDecision decision = TestPolicies.Decide("gdpr=1", "US");

        Assert.Equal(RegionProfile.GdprApplies, decision.RegionProfile);
        Assert.Equal(ConsentTypes.None, decision.Consent.Granted);
        Assert.Equal(RegionProfile.Other, TestPolicies.Decide("gdpr=0", "US").RegionProfile);
    }
}
