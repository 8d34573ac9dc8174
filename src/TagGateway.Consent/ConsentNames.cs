using TagGateway.Consent.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent;

/// <summary>
/// Wire names for the audit log, metrics and the explain endpoint. Spelled out (not Enum.ToString) so renaming a member
/// cannot silently change a log schema, and so formatting never allocates.
/// </summary>
internal static class ConsentNames
{
    public static readonly ConsentType[] Types = [ConsentType.AdStorage, ConsentType.AnalyticsStorage, ConsentType.AdUserData, ConsentType.AdPersonalization];

    // One interned string per letter a well-formed gcd can carry, so counting never allocates; the label stays one character.
    private static readonly string[] GcdLetters = [.. Enumerable.Range(0, 128).Select(static c => char.IsAsciiLetterOrDigit((char)c) ? ((char)c).ToString() : "other")];

    /// <summary>A gcd letter as a metric label: itself for [A-Za-z0-9], "other" for anything else.</summary>
    public static string OfGcdLetter(char letter) => letter < GcdLetters.Length ? GcdLetters[letter] : "other";

    public static string Of(ConsentType type) => type switch
    {
        ConsentType.AdStorage => "ad_storage",
        ConsentType.AnalyticsStorage => "analytics_storage",
        ConsentType.AdUserData => "ad_user_data",
        ConsentType.AdPersonalization => "ad_personalization",
        _ => "unknown",
    };

    public static string Of(ConsentState state) => state switch
    {
        ConsentState.Granted => "granted",
        ConsentState.Denied => "denied",
        _ => "unknown",
    };

    public static string Of(ConsentSource source) => source switch
    {
        ConsentSource.RegionDefault => "region_default",
        ConsentSource.Gcs => "gcs",
        ConsentSource.GcdDefault => "gcd_default",
        ConsentSource.GcdUpdate => "gcd_update",
        ConsentSource.Unreadable => "unreadable",
        ConsentSource.GlobalPrivacyControl => "gpc",
        ConsentSource.NonPersonalizedAds => "npa",
        _ => "unknown",
    };

    public static string Of(ConsentDenial denial) => denial switch
    {
        ConsentDenial.None => "none",
        ConsentDenial.Update => "update",
        ConsentDenial.Default => "default",
        ConsentDenial.RegionDefault => "region_default",
        ConsentDenial.Unreadable => "unreadable",
        ConsentDenial.GlobalPrivacyControl => "gpc",
        ConsentDenial.NonPersonalizedAds => "npa",
        _ => "unknown",
    };

    public static string Of(SignalPresence presence) => presence switch
    {
        SignalPresence.WellFormed => "well_formed",
        SignalPresence.Malformed => "malformed",
        _ => "absent",
    };

    public static string Of(ConsentOutcome outcome) => outcome switch
    {
        ConsentOutcome.Full => "full",
        ConsentOutcome.Limited => "limited",
        ConsentOutcome.Cookieless => "cookieless",
        _ => "blocked",
    };

    public static string Of(RestrictedForm form) => form switch
    {
        RestrictedForm.GoogleNonPersonalizedAds => "google_npa",
        RestrictedForm.MetaLimitedDataUse => "meta_ldu",
        RestrictedForm.TikTokLimitedDataUse => "tiktok_ldu",
        _ => "none",
    };

    public static string Of(RegionProfile profile) => profile switch
    {
        RegionProfile.Strict => "strict",
        RegionProfile.Other => "other",
        RegionProfile.Configured => "configured",
        RegionProfile.GdprApplies => "gdpr_applies",
        _ => "unknown",
    };

    public static string Of(ConsentLogMode mode) => mode switch
    {
        ConsentLogMode.Stdout => "stdout",
        ConsentLogMode.File => "file",
        _ => "none",
    };

    public static string Of(bool? value) => value switch
    {
        true => "1",
        false => "0",
        null => "absent",
    };
}
