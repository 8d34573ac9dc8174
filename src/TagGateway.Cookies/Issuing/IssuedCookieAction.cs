using System.Runtime.CompilerServices;

namespace TagGateway.Cookies.Issuing;

/// <summary>Why the issuer wrote a Set-Cookie header (the <c>action</c> label of <c>taggateway.cookies.written</c>).</summary>
public enum IssuedCookieAction : byte
{
    None = 0,

    /// <summary>The server-managed identifier, newly minted.</summary>
    Mint,

    /// <summary>A cookie the browser sent, re-issued by header with its full lifetime.</summary>
    Refresh,

    /// <summary>The HttpOnly server copy of a restorable cookie.</summary>
    Copy,

    /// <summary>A cookie the browser lost (or re-minted) brought back from its HttpOnly copy.</summary>
    Restore,

    /// <summary>A landing page's click ID turned into its platform's cookie.</summary>
    ClickId,

    /// <summary>Expired on a consent withdrawal.</summary>
    Expire,

    /// <summary>The refresh marker.</summary>
    Marker,
}

/// <summary>
/// The actions of the headers one <see cref="IdentifierCookieIssuer.Apply(Microsoft.AspNetCore.Http.HttpContext, in Consent.Policy.ConsentDecision, CookieOccasion, string?, bool, ReadOnlySpan{char}, Span{IssuedCookieAction})"/>
/// call wrote, in order: a fixed buffer a caller keeps inline, so recording them allocates nothing.
/// </summary>
[InlineArray(Capacity)]
public struct IssuedCookieActions
{
    public const int Capacity = 8;

    private IssuedCookieAction _first;
}
