namespace TagGateway.Cookies.Issuing;

/// <summary>What a response answers, for <see cref="IdentifierCookieIssuer.Apply"/>: only hits carry consent signals.</summary>
public enum CookieOccasion
{
    /// <summary>A tag script load (gtm.js, gtag/js …): no consent signal, so no identifier is written or expired.</summary>
    ScriptLoad = 0,

    /// <summary>A measurement hit: identifiers are written as its consent allows and expired only on an explicit withdrawal.</summary>
    Hit = 1,
}
