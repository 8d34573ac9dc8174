using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Policy;

public class ConsentMatrixTests
{
    private static readonly SnapshotPolicy Policy = TestPolicies.Create();

    public static TheoryData<int> Rows()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < ConsentMatrix.BuiltIn.Length; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void Table_and_enum_agree()
    {
        Assert.True(ConsentMatrix.IsConsistent());
        Assert.Equal(ConsentMatrix.BuiltIn.Length, ConsentMatrix.BuiltIn.Select(r => r.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    /// <summary>
    /// Every row against every combination of the four types and GPC, driven end to end: an encoded gcd, decoding,
    /// resolution (GPC denies ad_user_data and ad_personalization) and the decision masks.
    /// </summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void Row_holds_for_every_consent_combination(int row)
    {
        var rule = ConsentMatrix.BuiltIn[row];
        var destination = (ConsentDestination)row;

        for (var mask = 0; mask < 16; mask++)
        {
            foreach (var gpc in new[] { false, true })
            {
                var granted = (ConsentTypes)mask;
                var decision = Policy.Decide(ConsentSignals.FromQuery("gcd=" + Gcd.FromGranted(granted), gpc), "US");
                var actual = decision.For(destination);

                var effective = gpc ? granted & ~(ConsentTypes.AdUserData | ConsentTypes.AdPersonalization) : granted;
                Assert.Equal(effective, decision.Consent.Granted);

                bool Has(ConsentTypes needed) => (effective & needed) == needed;
                var personalizationDenied = !Has(ConsentTypes.AdPersonalization);
                var send = !(gpc && rule.BlockOnGpc)
                    && Has(rule.SendRequires)
                    && !(personalizationDenied && rule.WhenPersonalizationDenied == PersonalizationDeniedAction.Block);

                var context = $"{rule.Name} granted={granted} gpc={gpc}";
                Assert.True(send == actual.MaySend, context + " send");
                Assert.True((send && Has(rule.IdentifiersRequire)) == actual.MayUseIdentifiers, context + " identifiers");
                Assert.True((send && Has(rule.UserDataRequires)) == actual.MayAttachUserData, context + " user data");
                var restricted = send && personalizationDenied && rule.WhenPersonalizationDenied == PersonalizationDeniedAction.Restrict;
                Assert.True(restricted == actual.IsRestricted, context + " restricted");
                Assert.Equal(restricted ? rule.RestrictedForm : RestrictedForm.None, actual.RestrictedForm);
                Assert.Equal(rule.Name, actual.Name);
            }
        }
    }

    private const ConsentTypes All = ConsentTypes.All;
    private const ConsentTypes AdStorage = ConsentTypes.AdStorage;
    private const ConsentTypes Analytics = ConsentTypes.AnalyticsStorage;
    private const ConsentTypes UserData = ConsentTypes.AdUserData;
    private const ConsentTypes Personalization = ConsentTypes.AdPersonalization;

    /// <summary>
    /// The matrix as a reviewer states it, written out independently of the table:
    /// destination, granted types, GPC → send, identifiers, user data, restricted form.
    /// </summary>
    public static TheoryData<ConsentDestination, ConsentTypes, bool, bool, bool, bool, RestrictedForm> Expectations => new()
    {
        // Google Analytics: always sent (cookieless when analytics_storage is denied).
        { ConsentDestination.GoogleAnalytics, All, false, true, true, true, RestrictedForm.None },
        { ConsentDestination.GoogleAnalytics, All & ~Analytics, false, true, false, false, RestrictedForm.None },
        { ConsentDestination.GoogleAnalytics, All & ~UserData, false, true, true, false, RestrictedForm.None },
        { ConsentDestination.GoogleAnalytics, All & ~Personalization, false, true, true, true, RestrictedForm.GoogleNonPersonalizedAds },
        { ConsentDestination.GoogleAnalytics, ConsentTypes.None, false, true, false, false, RestrictedForm.GoogleNonPersonalizedAds },
        { ConsentDestination.GoogleAnalytics, All, true, true, true, false, RestrictedForm.GoogleNonPersonalizedAds },

        // Google Ads: always sent; identifiers need ad_storage, user data needs ad_user_data.
        { ConsentDestination.GoogleAds, All, false, true, true, true, RestrictedForm.None },
        { ConsentDestination.GoogleAds, All & ~AdStorage, false, true, false, true, RestrictedForm.None },
        { ConsentDestination.GoogleAds, All & ~UserData, false, true, true, false, RestrictedForm.None },
        { ConsentDestination.GoogleAds, All & ~Personalization, false, true, true, true, RestrictedForm.GoogleNonPersonalizedAds },
        { ConsentDestination.GoogleAds, ConsentTypes.None, false, true, false, false, RestrictedForm.GoogleNonPersonalizedAds },
        { ConsentDestination.GoogleAds, All, true, true, true, false, RestrictedForm.GoogleNonPersonalizedAds },

        // Meta: needs ad_storage; LDU when ad_personalization is denied; GPC blocks.
        { ConsentDestination.Meta, All, false, true, true, true, RestrictedForm.None },
        { ConsentDestination.Meta, All & ~AdStorage, false, false, false, false, RestrictedForm.None },
        { ConsentDestination.Meta, All & ~Analytics, false, true, true, true, RestrictedForm.None },
        { ConsentDestination.Meta, All & ~UserData, false, true, true, false, RestrictedForm.None },
        { ConsentDestination.Meta, All & ~Personalization, false, true, true, true, RestrictedForm.MetaLimitedDataUse },
        { ConsentDestination.Meta, All, true, false, false, false, RestrictedForm.None },

        // TikTok: as Meta, with TikTok's limited data use.
        { ConsentDestination.TikTok, All, false, true, true, true, RestrictedForm.None },
        { ConsentDestination.TikTok, All & ~AdStorage, false, false, false, false, RestrictedForm.None },
        { ConsentDestination.TikTok, All & ~UserData, false, true, true, false, RestrictedForm.None },
        { ConsentDestination.TikTok, All & ~Personalization, false, true, true, true, RestrictedForm.TikTokLimitedDataUse },
        { ConsentDestination.TikTok, All, true, false, false, false, RestrictedForm.None },

        // LinkedIn: no restricted form, so ad_personalization denied blocks; GPC blocks.
        { ConsentDestination.LinkedIn, All, false, true, true, true, RestrictedForm.None },
        { ConsentDestination.LinkedIn, All & ~AdStorage, false, false, false, false, RestrictedForm.None },
        { ConsentDestination.LinkedIn, All & ~UserData, false, true, true, false, RestrictedForm.None },
        { ConsentDestination.LinkedIn, All & ~Personalization, false, false, false, false, RestrictedForm.None },
        { ConsentDestination.LinkedIn, All, true, false, false, false, RestrictedForm.None },
    };

    [Theory]
    [MemberData(nameof(Expectations))]
    public void Reviewer_expectation(ConsentDestination destination, ConsentTypes granted, bool gpc, bool send, bool identifiers, bool userData, RestrictedForm form)
    {
        var decision = Policy.Decide(ConsentSignals.FromQuery("gcd=" + Gcd.FromGranted(granted), gpc), "US");
        var actual = decision.For(destination);

        Assert.Equal(send, actual.MaySend);
        Assert.Equal(identifiers, actual.MayUseIdentifiers);
        Assert.Equal(userData, actual.MayAttachUserData);
        Assert.Equal(form, actual.RestrictedForm);
        Assert.Equal(form != RestrictedForm.None, actual.IsRestricted);
    }

    [Theory]
    [InlineData("DE")]
    [InlineData("")]
    public void No_banner_in_a_strict_region_sends_only_cookieless_google_pings(string region)
    {
        var decision = Policy.Decide(ConsentSignals.FromQuery("v=2&tid=G-TEST&en=page_view", false), region);

        Assert.Equal(ConsentOutcome.Cookieless, decision.For(ConsentDestination.GoogleAnalytics).Outcome);
        Assert.Equal(ConsentOutcome.Cookieless, decision.For(ConsentDestination.GoogleAds).Outcome);
        Assert.True(decision.For(ConsentDestination.GoogleAds).IsRestricted);
        Assert.Equal(ConsentOutcome.Blocked, decision.For(ConsentDestination.Meta).Outcome);
        Assert.Equal(ConsentOutcome.Blocked, decision.For(ConsentDestination.TikTok).Outcome);
        Assert.Equal(ConsentOutcome.Blocked, decision.For(ConsentDestination.LinkedIn).Outcome);
    }

    [Fact]
    public void Outcomes_summarise_the_decision()
    {
        var all = Policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3v5", false), "DE");
        var noPersonalization = Policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3q5", false), "DE");

        Assert.Equal(ConsentOutcome.Full, all.For(ConsentDestination.Meta).Outcome);
        Assert.Equal(ConsentOutcome.Limited, noPersonalization.For(ConsentDestination.Meta).Outcome);
        Assert.Equal(ConsentOutcome.Blocked, noPersonalization.For(ConsentDestination.LinkedIn).Outcome);
    }

    [Fact]
    public void Default_decision_and_unknown_names_block()
    {
        ConsentDecision empty = default;
        var decision = Policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3v5", false), "US");

        Assert.False(empty.For(ConsentDestination.GoogleAnalytics).MaySend);
        Assert.Equal(0, empty.DestinationCount);
        Assert.False(decision.For("Snapchat").MaySend);
        Assert.Null(decision.For("Snapchat").Name);
        Assert.False(decision.For((ConsentDestination)63).MaySend);
        Assert.True(decision.For("meta").MaySend);
    }

    [Fact]
    public void Configured_destination_is_added_by_name()
    {
        var policy = TestPolicies.Create(o => o.Destinations["Snap"] = new()
        {
            SendRequires = ConsentTypes.AdStorage | ConsentTypes.AdUserData,
        });

        Assert.True(policy.TryGetDestination("snap", out var snap));
        Assert.Equal(5, (int)snap);

        var granted = policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3v5", false), "US");
        var noUserData = policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3v5", false).WithOverrides("gcd=13v3v3q3v5"), "US");
        var gpc = policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3v5", true), "US");

        Assert.Equal(6, granted.DestinationCount);
        Assert.Equal(ConsentOutcome.Full, granted.For("Snap").Outcome);
        Assert.Equal(granted.For(snap), granted.For("SNAP"));
        Assert.False(noUserData.For("Snap").MaySend);
        Assert.False(gpc.For("Snap").MaySend);
    }

    [Fact]
    public void Configuration_overrides_a_built_in_row()
    {
        var policy = TestPolicies.Create(o =>
        {
            o.Destinations["LinkedIn"] = new() { WhenPersonalizationDenied = PersonalizationDeniedAction.Ignore };
            o.Destinations["TikTok"] = new() { Enabled = false };
        });

        var decision = policy.Decide(ConsentSignals.FromQuery("gcd=13v3v3v3q5", false), "US");

        Assert.True(decision.For(ConsentDestination.LinkedIn).MaySend);
        Assert.False(decision.For(ConsentDestination.LinkedIn).IsRestricted);
        Assert.False(decision.For(ConsentDestination.TikTok).MaySend);
        Assert.Equal(5, decision.DestinationCount);
    }
}
