using static TagGateway.Consent.Signals.ConsentTypes;

namespace TagGateway.Consent.Policy;

/// <summary>
/// THE CONSENT MATRIX. One row per built-in destination; a privacy reviewer should be able to read this file alone.
/// </summary>
/// <remarks>
/// How a row is read, for each event:
/// <list type="number">
/// <item>Each consent type gets one effective state: gcd update, else gcd default, else gcs, else the region default
///   (EEA/GB/CH and unknown regions: denied). A gcd or gcs that is malformed as a whole counts as denied at its rank,
///   so garbage never falls through to a lenient default; a single undocumented gcd letter counts as not set for its
///   type (the next rank decides), never as granted.</item>
/// <item>Sec-GPC: 1 forces ad_user_data and ad_personalization to denied; npa=1 forces ad_personalization to denied.</item>
/// <item>A capability is allowed only when every type in its column is granted (None = always). Identifiers and user data
///   are only ever allowed on a hit that is sent.</item>
/// <item>"ad_personalization denied" says what happens then: Restrict = send in the named restricted form; Block = do not send.</item>
/// <item>"GPC blocks" = Sec-GPC: 1 stops sending altogether. Chosen for Meta, TikTok and LinkedIn because GPC is a legal
///   opt-out of sale/sharing (CCPA/CPRA and similar) and forwarding to an ad platform's CAPI is sharing; LDU would still hand
///   the data over. Google keeps receiving the hit: GPC already denies ad_user_data and ad_personalization there (npa=1, no user data).</item>
/// </list>
/// Google hits always flow (Consent Mode cookieless pings for modelling) but without identifiers unless the storage type is granted.
/// Configuration (Consent:Destinations:&lt;Name&gt;) may override any column of these rows or add rows of its own.
/// </remarks>
internal static class ConsentMatrix
{
    public static readonly DestinationRule[] BuiltIn =
    [
        //  Destination        Send needs    Identifiers need    User data needs                     ad_personalization denied                                          GPC blocks
        new("GoogleAnalytics", None,         AnalyticsStorage,   AnalyticsStorage | AdUserData,      PersonalizationDeniedAction.Restrict, RestrictedForm.GoogleNonPersonalizedAds, BlockOnGpc: false),
        new("GoogleAds",       None,         AdStorage,          AdUserData,                         PersonalizationDeniedAction.Restrict, RestrictedForm.GoogleNonPersonalizedAds, BlockOnGpc: false),
        new("Meta",            AdStorage,    AdStorage,          AdStorage | AdUserData,             PersonalizationDeniedAction.Restrict, RestrictedForm.MetaLimitedDataUse,       BlockOnGpc: true),
        new("TikTok",          AdStorage,    AdStorage,          AdStorage | AdUserData,             PersonalizationDeniedAction.Restrict, RestrictedForm.TikTokLimitedDataUse,     BlockOnGpc: true),
        new("LinkedIn",        AdStorage,    AdStorage,          AdStorage | AdUserData,             PersonalizationDeniedAction.Block,    RestrictedForm.None,                     BlockOnGpc: true),
    ];

    /// <summary>A destination added by configuration without saying otherwise is treated like an ad platform with no restricted form.</summary>
    public static DestinationRule DefaultForConfigured(string name) =>
        new(name, AdStorage, AdStorage, AdStorage | AdUserData, PersonalizationDeniedAction.Block, RestrictedForm.None, BlockOnGpc: true);

    /// <summary>Most destinations a decision can carry (one bit each in a 64-bit mask).</summary>
    public const int MaxDestinations = 64;

    /// <summary>The enum and the table must agree; asserted by the tests.</summary>
    internal static bool IsConsistent() =>
        BuiltIn.Length == Enum.GetValues<ConsentDestination>().Length
        && BuiltIn[(int)ConsentDestination.GoogleAnalytics].Name == "GoogleAnalytics"
        && BuiltIn[(int)ConsentDestination.GoogleAds].Name == "GoogleAds"
        && BuiltIn[(int)ConsentDestination.Meta].Name == "Meta"
        && BuiltIn[(int)ConsentDestination.TikTok].Name == "TikTok"
        && BuiltIn[(int)ConsentDestination.LinkedIn].Name == "LinkedIn";
}
