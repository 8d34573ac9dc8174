namespace TagGateway.Consent.Policy;

/// <summary>
/// Built-in destinations. Values are indexes into the decision; destinations added by configuration follow
/// LinkedIn and are looked up by name (<see cref="IConsentPolicy.TryGetDestination"/>, <see cref="ConsentDecision.For(ReadOnlySpan{char})"/>).
/// </summary>
public enum ConsentDestination
{
    GoogleAnalytics = 0,
    GoogleAds = 1,
    Meta = 2,
    TikTok = 3,
    LinkedIn = 4,
}

/// <summary>What a destination does when ad_personalization is denied.</summary>
public enum PersonalizationDeniedAction
{
    /// <summary>ad_personalization does not matter to this destination.</summary>
    Ignore = 0,

    /// <summary>Send in the destination's restricted form (Google npa=1, Meta LDU, TikTok limited data use).</summary>
    Restrict = 1,

    /// <summary>The destination has no restricted form: do not send.</summary>
    Block = 2,
}

/// <summary>The restricted form a destination is sent in when ad_personalization is denied.</summary>
public enum RestrictedForm
{
    None = 0,

    /// <summary>Google: <c>npa=1</c> on the hit.</summary>
    GoogleNonPersonalizedAds = 1,

    /// <summary>Meta Conversions API: <c>data_processing_options: ["LDU"]</c>.</summary>
    MetaLimitedDataUse = 2,

    /// <summary>TikTok Events API: <c>limited_data_use: true</c>.</summary>
    TikTokLimitedDataUse = 3,
}

/// <summary>A one-word summary of a destination decision, used for metrics and the audit log.</summary>
public enum ConsentOutcome
{
    /// <summary>Not sent.</summary>
    Blocked = 0,

    /// <summary>Sent without identifiers (Google's cookieless ping).</summary>
    Cookieless = 1,

    /// <summary>Sent with identifiers, but restricted or without user data.</summary>
    Limited = 2,

    /// <summary>Sent with identifiers and user data, unrestricted.</summary>
    Full = 3,
}

/// <summary>Which region default applied when no explicit signal settled a consent type.</summary>
public enum RegionProfile
{
    /// <summary>No region, or one not recognised: the strict defaults apply.</summary>
    Unknown = 0,

    /// <summary>EEA, United Kingdom, Switzerland: the strict defaults.</summary>
    Strict = 1,

    /// <summary>Elsewhere: the other-region defaults.</summary>
    Other = 2,

    /// <summary>A region with its own entry under Consent:RegionDefaults.</summary>
    Configured = 3,

    /// <summary>The hit said gdpr=1 while the region would have been lenient: the strict defaults apply.</summary>
    GdprApplies = 4,
}
